import pytest
from starlette.requests import HTTPConnection

from api.core.errors import Forbidden
from auth.csrf import cookie_usable, origin_allowed

ALLOWED = ("https://explorer.test",)


def _connection(method: str = "POST", kind: str = "http", **headers: str) -> HTTPConnection:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"host", b"api.test"))
    scope = {"type": kind, "method": method, "path": "/graphql", "headers": raw}
    if kind == "websocket":
        del scope["method"]
    return HTTPConnection(scope)


@pytest.mark.parametrize(
    "origin",
    ["https://explorer.test", "https://EXPLORER.test:443", "https://api.test", "http://api.test"],
)
def test_allowlisted_and_own_origins_may_use_the_cookie(origin: str) -> None:
    assert cookie_usable(_connection(origin=origin), ALLOWED)
    assert cookie_usable(_connection(kind="websocket", origin=origin), ALLOWED)


@pytest.mark.parametrize(
    "origin",
    ["https://evil.test", "null", "https://explorer.test.evil.test", "http://explorer.test"],
)
def test_foreign_origins_are_refused(origin: str) -> None:
    with pytest.raises(Forbidden, match="LPM_CORS_ORIGINS"):
        cookie_usable(_connection(origin=origin), ALLOWED)
    with pytest.raises(Forbidden):
        cookie_usable(_connection(method="GET", origin=origin), ALLOWED)
    with pytest.raises(Forbidden):
        cookie_usable(_connection(kind="websocket", origin=origin), ALLOWED)


def test_a_wildcard_allowlist_never_lets_foreign_origins_use_the_cookie() -> None:
    with pytest.raises(Forbidden):
        cookie_usable(_connection(origin="https://evil.test"), ("*",))
    assert not origin_allowed("https://evil.test", "api.test", ("*",))


def test_post_without_origin_is_refused() -> None:
    with pytest.raises(Forbidden, match="Origin header"):
        cookie_usable(_connection(), ALLOWED)


def test_get_without_origin_uses_the_cookie_unless_another_site_navigated_here() -> None:
    assert cookie_usable(_connection(method="GET"), ALLOWED)
    assert cookie_usable(_connection(method="GET", sec_fetch_site="same-origin"), ALLOWED)
    assert cookie_usable(_connection(method="GET", sec_fetch_site="none"), ALLOWED)
    assert not cookie_usable(_connection(method="GET", sec_fetch_site="cross-site"), ALLOWED)
    assert not cookie_usable(_connection(method="GET", sec_fetch_site="same-site"), ALLOWED)


def test_websocket_without_origin_is_not_a_browser() -> None:
    assert cookie_usable(_connection(kind="websocket"), ALLOWED)
