"""The traffic service (placeholder until the network part's skeleton is merged)."""
