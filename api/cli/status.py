"""``lpmetrics status --token TOKEN [--url URL]``: an orchestrator's own ingest status,
through the API (``viewer { ingest }``) as its own scripts would read it.

Exit status, for cron jobs and alert checks: 0 samples were stored in the last 5
minutes; 1 nothing was; 2 a usage error (bad arguments, or the server refused the
token); 3 the server could not be asked (unreachable, or an unexpected answer)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from api.cli.common import UsageError

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 15.0
SILENT = 1
UNREACHABLE = 3
TOKEN_ENV = "LPM_TOKEN"
"""Where the token is read from without ``--token``."""

QUERY = """query IngestStatus { viewer { address ingest {
  receiving lastReceivedAt lastStoredAt storedSamples activeSeries seriesLimit
  samplesPerSecondLimit
  nodes { name lastStoredAt newestSampleAt }
  minutes { start receivedSamples storedSamples droppedSamples refusedSamples }
  drops { reason samples series labelNames metrics }
  refusals { reason requests samples lastMessage }
} } }"""

FIXES = {
    "NOT_ALLOWLISTED": "a metric the service does not keep: use the write_relabel_configs "
    "printed by `lpmetrics token create` (keep only the allowlisted metrics)",
    "NOT_SHARED": "an optional metric you do not share: drop it in write_relabel_configs, "
    "or share it (`setSharing`)",
    "NO_NODE_ID": "no node_id label: add one per node, e.g. a relabel rule setting "
    "node_id from instance",
    "INVALID_NODE_ID": "a node_id over 200 characters: use a shorter node name",
    "LOOPBACK_DEVICE": 'the loopback interface: drop device="lo" in write_relabel_configs',
    "NON_FINITE": "NaN or infinite values: check the exporter",
    "NATIVE_HISTOGRAM": "native histograms are not used: drop them, or turn off "
    "send_native_histograms",
    "RATE_LIMIT": "over your samples/s limit: send fewer series, or scrape less often "
    "(Prometheus retries these)",
    "SERIES_LIMIT": "over your active-series limit: drop labels that multiply series "
    "(see the generated write_relabel_configs)",
    "INVALID": "requests the service cannot use (Prometheus does not retry them): see "
    "the last answer below",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "status",
        help="your ingest status: what arrived, what was dropped and why",
        description="Asks the service (its API, with a READ token) what arrived from your "
        "Prometheus in the last hour, what was left out and why. Exit status: 0 samples "
        "were stored in the last 5 minutes; 1 nothing was (usable as a cron or alert "
        "check); 2 usage error or token refused; 3 the server could not be asked.",
    )
    parser.add_argument(
        "--token",
        help=f"a READ API token (lpm_...); default ${TOKEN_ENV}, which keeps it out of the "
        "process list other users can read",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the service (default {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, not {args.url!r}")
    token = (args.token if args.token is not None else os.environ.get(TOKEN_ENV, "")).strip()
    if not token:
        raise UsageError(f"--token or {TOKEN_ENV} is required (a READ API token)")
    found = _fetch(args.url.rstrip("/"), token)
    if found is None:
        return UNREACHABLE
    ingest = found["ingest"]
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(render(found["address"], ingest, datetime.now(UTC)), end="")
    return 0 if ingest["receiving"] else SILENT


def _fetch(url: str, token: str) -> dict[str, Any] | None:
    """``viewer`` of the token's orchestrator; None (after saying why) when the server
    cannot be asked."""
    import httpx

    endpoint = url + "/graphql"
    try:
        response = httpx.post(
            endpoint,
            json={"query": QUERY},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        _say(f"cannot reach {url}: {_reason(exc)}")
        return None
    if response.status_code in (401, 403):
        why = (
            "unknown or revoked"
            if response.status_code == 401
            else "not a READ token, or its orchestrator is no longer registered"
        )
        raise UsageError(
            f"{url} refused the token ({response.status_code}): {why} (a READ token comes "
            "from `lpmetrics token create --scope read` or the createApiToken mutation)"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    data = body.get("data") if isinstance(body, dict) else None
    viewer = data.get("viewer") if isinstance(data, dict) else None
    if errors or response.status_code != 200 or not isinstance(viewer, dict):
        detail = errors[0].get("message") if errors else f"HTTP {response.status_code}"
        _say(f"{endpoint} did not answer with an ingest status: {detail}")
        return None
    if viewer.get("ingest") is None:
        raise UsageError(f"{url} does not know the token's orchestrator")
    return viewer


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _say(message: str) -> None:
    print(f"lpmetrics: {message}", file=sys.stderr)


def render(address: str, ingest: dict[str, Any], now: datetime) -> str:
    """The status as a few lines for a terminal."""
    lines = [f"Ingest of {address} (last hour, as of {now:%Y-%m-%d %H:%M:%S} UTC)"]
    stored_at = _parse(ingest["lastStoredAt"])
    received_at = _parse(ingest["lastReceivedAt"])
    if ingest["receiving"]:
        lines.append(f"  receiving: yes, samples stored {_ago(stored_at, now)}")
    elif received_at is not None and (stored_at is None or received_at > stored_at):
        lines.append(
            f"  receiving: NO samples stored in the last 5 minutes, though requests arrived "
            f"{_ago(received_at, now)}: everything was dropped or refused (see below)"
        )
    else:
        last = f"last {_ago(stored_at, now)}" if stored_at else "never in the last week"
        lines.append(f"  receiving: NO samples stored in the last 5 minutes ({last})")
    recent = [m["storedSamples"] for m in ingest["minutes"][-15:]]
    lines.append(
        f"  stored: {ingest['storedSamples']:,} samples; per minute, the last 15 minutes: "
        + " ".join(f"{n:,}" for n in recent)
    )
    lines.append(
        f"  active series: {ingest['activeSeries']:,} of {ingest['seriesLimit']:,} allowed;"
        f" rate limit {ingest['samplesPerSecondLimit']:,} samples/s"
    )
    if ingest["nodes"]:
        lines.append("  nodes:")
        width = max(len(n["name"]) for n in ingest["nodes"])
        for node in ingest["nodes"]:
            lines.append(
                f"    {node['name']:<{width}}  stored {_ago(_parse(node['lastStoredAt']), now)},"
                f" newest sample {_ago(_parse(node['newestSampleAt']), now)}"
            )
    for title, items in (("dropped", ingest["drops"]), ("refused", ingest["refusals"])):
        if not items:
            lines.append(f"  {title}: nothing")
            continue
        lines.append(f"  {title}:")
        for item in items:
            lines.append(f"    {item['reason'].lower()}: {_counts(item)}")
            lines.append(f"      {FIXES.get(item['reason'], '')}")
            if item.get("labelNames"):
                lines.append(f"      label names: {', '.join(item['labelNames'])}")
            if item.get("metrics"):
                lines.append(f"      metrics: {', '.join(item['metrics'])}")
            if item.get("lastMessage"):
                lines.append(f"      last answer: {item['lastMessage']}")
    return "\n".join(lines) + "\n"


def _counts(item: dict[str, Any]) -> str:
    if "requests" in item:
        return f"{item['requests']:,} requests ({item['samples']:,} samples)"
    series = "" if item["series"] is None else f" of {item['series']:,} series"
    return f"{item['samples']:,} samples{series}"


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172_800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
