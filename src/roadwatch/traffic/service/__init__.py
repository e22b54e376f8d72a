"""The traffic service's use cases; they flush, never commit, and raise domain errors."""
