"""Organizations (tenants), users and memberships."""
