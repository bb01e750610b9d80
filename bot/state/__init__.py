"""What must be shared or survive a restart: the store protocol and its records, the SQLite
and Redis engines, event receipts, and the shared Redis pieces (cache, token, budget, locks).
"""
