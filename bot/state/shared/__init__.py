"""State shared by every process of one bot through Redis, when `REDIS_URL` is set.

Each piece stands behind a seam the single-process bot already has (the lookup's cache, the
token auth, the call pacer) and falls back to that per-process behaviour whenever Redis is
unreachable, so a dead Redis costs sharing, never answers.
"""
