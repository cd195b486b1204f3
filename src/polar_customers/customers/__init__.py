"""The customers resource: `/v1/customers`."""
