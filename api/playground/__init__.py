"""The GraphiQL playground at ``GET /graphql`` (in a browser), served entirely by the
service: GraphiQL and React are vendored (``api.assets``), the page's own script and
style are files of this package, and a Content-Security-Policy lets the page load and
connect to nothing but the service's own origin. Example tabs (``examples/``) come
preloaded: the explorer's dashboard query, a sign-in walk-through, live updates."""

from api.playground.page import playground_page
from api.playground.routes import playground_route

__all__ = ["playground_page", "playground_route"]
