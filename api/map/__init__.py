"""``GET /map``: a page drawing the public view on a world map (demand origins,
orchestrator regions, coverage gaps). See ``api.map.page``."""

from api.map.page import map_routes

__all__ = ["map_routes"]
