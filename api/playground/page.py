"""The playground's HTML page and the headers it is served with."""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

from starlette.responses import HTMLResponse

from api.assets import asset_sri, asset_url
from api.playground.routes import static_url

EXAMPLES = Path(__file__).parent / "examples"

# Only the service's own origin: scripts, styles, connections (HTTP and WebSocket).
# GraphiQL's stylesheet embeds its fonts and icons as data: URIs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# (package, file) in load order: React before GraphiQL, GraphiQL before its plugin.
_STYLES = [("graphiql", "graphiql.min.css"), ("@graphiql/plugin-explorer", "dist/style.css")]
_SCRIPTS = [
    ("react", "umd/react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js"),
    ("@graphiql/plugin-explorer", "dist/index.umd.js"),
]


def _examples() -> list[dict[str, str]]:
    """The example tabs: each ``examples/NN-name.graphql`` with its ``.json`` variables."""
    tabs = []
    for path in sorted(EXAMPLES.glob("*.graphql")):
        tab = {"query": path.read_text()}
        variables = path.with_suffix(".json")
        if variables.exists():
            tab["variables"] = variables.read_text()
        tabs.append(tab)
    return tabs


@functools.cache
def _html() -> str:
    def attr(value: str) -> str:
        return html.escape(value, quote=True)

    styles = "\n".join(
        f'<link rel="stylesheet" href="{attr(asset_url(p, f))}" integrity="{asset_sri(p, f)}">'
        for p, f in _STYLES
    )
    scripts = "\n".join(
        f'<script src="{attr(asset_url(p, f))}" integrity="{asset_sri(p, f)}"></script>'
        for p, f in _SCRIPTS
    )
    # A data block, not a script: the policy runs no inline code.
    examples = json.dumps(_examples()).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lpmetrics GraphQL playground</title>
<link rel="icon" href="{static_url("icon.svg")}">
{styles}
<link rel="stylesheet" href="{static_url("playground.css")}">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script type="application/json" id="lpm-examples">{examples}</script>
{scripts}
<script src="{static_url("playground.js")}"></script>
</body>
</html>
"""


def playground_page() -> HTMLResponse:
    return HTMLResponse(_html(), headers=HEADERS)
