"""The benchmark: the bot (as the Procfile starts it) against a bare Bolt app; see bench/run.py."""
