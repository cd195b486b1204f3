"""Meters and the running totals of each customer."""
