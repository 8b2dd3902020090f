"""Third-party browser files (JavaScript, CSS) served by the service itself.

The pages the service serves (the GraphiQL playground, any other browser page) load
nothing from another host: a CDN would learn who visits, and a deployment without a
route to it would show a blank page. Each file comes from an npm package pinned in
``manifest.json`` (exact version, the registry's sha512 integrity of the tarball, and a
subresource-integrity hash of every file taken from it), is committed under
``vendor/<package>/<version>/``, and is served at ``/assets/<package>/<version>/<file>``.

- ``api.assets.manifest``: reads the manifest; ``asset_url`` and ``asset_sri`` for pages.
- ``api.assets.vendor``: ``uv run python -m api.assets.vendor`` refreshes the files from
  the npm registry (``--check`` verifies the committed files offline).
- ``api.assets.routes``: the ``/assets`` route.
"""

from api.assets.manifest import asset_sri, asset_url, load_manifest
from api.assets.routes import assets_route

__all__ = ["asset_sri", "asset_url", "assets_route", "load_manifest"]
