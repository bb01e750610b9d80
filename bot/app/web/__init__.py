"""The web process (the Procfile's `web:`): granian's options, the ASGI front that reads
every body with a deadline, the routes behind it, and the counted log of refusals.
"""
