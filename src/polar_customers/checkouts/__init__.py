"""Checkouts: one-time purchases of products, completed at once (no route yet)."""
