"""Open, self-hostable server for the Polar Customers API."""

__version__ = "0.1.0"
