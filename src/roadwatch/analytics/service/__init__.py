"""Use cases of the analytics service, one file per concern. Flush, never commit."""
