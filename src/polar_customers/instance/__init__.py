"""What a server declared about itself in its database, for the command line to check."""
