"""The road network's formats and geometry: GeoJSON and SUMO import/export, great-circle
lengths and distances, topology derived from nodes. Pure code: no database here."""
