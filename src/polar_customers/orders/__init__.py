"""Orders, payments and checkouts: what a customer balance sums."""
