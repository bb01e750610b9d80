"""Slack's side of a request: who asked (Requester), where the answer goes (ReplyTarget),
Slack ids, button values, allow-lists, and posting replies and response_url answers.
"""
