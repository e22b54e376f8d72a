"""FIWARE Smart Data Models (NGSI-LD, normalized form) of the traffic service's entities."""
