"""How an answer reaches a person, one module per door: messages (slash command, message
shortcut, Share, Recheck), watches (the notices), the Home tab, the Workflow Builder step; the
pool that runs them after the ack, and the audit line of every lookup.
"""
