"""Bearer tokens, scopes and the authenticated principal of a request."""
