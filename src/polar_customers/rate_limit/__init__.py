"""Rate limiting of /v1 per organization, user or anonymous client address, shared by the
server's processes through the database (docs/decisions.md#d47)."""
