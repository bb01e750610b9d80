"""Watching a flow until it moves: what is compared, when to look again, who is told, how."""
