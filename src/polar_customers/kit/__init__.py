"""Domain-free helpers shared by every resource."""
