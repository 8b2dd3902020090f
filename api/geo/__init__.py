"""Geography: locating nodes and clients, place codes at every aggregation level, and
storing locations."""
