"""Cross-cutting code shared by every service; it imports no service."""
