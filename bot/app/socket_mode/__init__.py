"""The Socket Mode worker (the Procfile's `worker:`): the link to Slack, its connections,
envelopes answered once, and the worker's health endpoint.
"""
