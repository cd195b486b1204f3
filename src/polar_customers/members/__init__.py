"""Members: the people acting for a customer (its owner, and the members of a team)."""
