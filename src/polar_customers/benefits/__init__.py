"""Benefits and their grants to customers."""
