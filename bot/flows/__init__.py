"""Looking a flow up: the TTL cache with one e签宝 call per flow, the snapshot a lookup hands
over, what changed between two looks, and the flow ids found in a person's text.
"""
