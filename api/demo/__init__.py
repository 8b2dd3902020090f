"""A simulated Livepeer network that writes through the real ingest path.

``lpmetrics serve --demo`` and ``lpmetrics demo-load`` use it so the API has live data
to explore without any real orchestrator:

- ``network``: who is in it (orchestrators, nodes, broadcasters), derived from a seed;
- ``ladders``: the rendition sets nodes transcode, and what they cost in pixels;
- ``clock``: the daily demand cycle and the scrape schedule;
- ``simulation``: streams coming and going, and the go-livepeer metrics they produce;
- ``encode``: remote-write 1.0 bodies, as Prometheus sends them;
- ``writer``: posting them, with Prometheus' retry rules;
- ``registry``: the demo registry, node locations and ingest tokens in the database;
- ``runner``: backfill and live scraping, one ordered queue per orchestrator;
- ``worker``: the background worker of ``serve --demo``;
- ``geoip``: a GeoIP database of the demo's own addresses, for ``serve --demo``
  without ``LPM_GEOIP_DB``.
"""
