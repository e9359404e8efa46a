"""Webhooks: each organization's HTTPS endpoints that receive the stream's items, signed, retried, dead-lettered."""
