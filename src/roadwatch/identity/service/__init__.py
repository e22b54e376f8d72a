"""Use cases of the identity service, one module per area. Flush, never commit."""
