"""Subscriptions: what customer state lists, and what deleting a customer cancels."""
