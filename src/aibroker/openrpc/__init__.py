"""openrpc."""
