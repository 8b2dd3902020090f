"""The one settings object, read from ``LPM_*`` environment variables once at start.

Every other module receives a ``Settings`` instance instead of reading the environment,
so tests and multiple processes can run with explicit, different configurations.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigError(Exception):
    """A configuration value is wrong; the message names the variable."""


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("lpmetrics", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LPM_", extra="ignore", frozen=True)

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    secret: str | None = Field(default=None, repr=False)
    geoip_db: Path | None = None
    siwe_domain: str = "localhost:8000"
    siwe_uri: str = "http://localhost:8000"
    chain_id: int = Field(default=42161, gt=0)
    eth_rpc_url: str | None = None
    subgraph_url: str | None = None
    subgraph_sync_seconds: int = Field(default=900, ge=10)
    # Where the running code is published (transparency); unset: not stated.
    source_url: str | None = None
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    public_h3_res: int = Field(default=3, ge=0, le=15)
    public_min_orchestrators: int = Field(default=3, ge=1)
    public_count_bin: int = Field(default=8, ge=1)
    reciprocity: bool = False
    raw_retention_days: int = Field(default=7, ge=1, le=3650)
    ingest_samples_per_second: int = Field(default=5000, gt=0)
    ingest_max_series: int = Field(default=20000, gt=0)
    ingest_max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # SIWE nonces per client address (a token bucket) and outstanding in all; the
    # defaults are explained in auth/nonces.py.
    nonce_burst: int = Field(default=10, gt=0)
    nonce_per_minute: int = Field(default=5, gt=0)
    nonce_max_pending: int = Field(default=100_000, gt=0)
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    cookie_samesite: str = Field(default="none", pattern="^(?i:lax|strict|none)$")
    redis_prefix: str = "lpm:"
    # False: this process serves requests only; the once-per-deployment work (rollup,
    # partitions, hourly tables) runs in the processes that keep it on.
    background_workers: bool = True
    # Cross-source convergence (docs/convergence.md): the relative error within which
    # a node's measured bytes count as converging with those its work implies, and the
    # history its model needs first.
    convergence_tolerance: float = Field(default=0.02, gt=0, lt=1)
    convergence_calibration_hours: float = Field(default=6, gt=0, le=24 * 7)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @field_validator("geoip_db")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            with value.open("rb") as f:
                f.read(1)
        except OSError as exc:
            raise ValueError(f"cannot read {value}: {exc.strerror or exc}") from None
        import geoip2.database  # only when one is configured: CLI commands start faster

        try:
            geoip2.database.Reader(os.fspath(value)).close()
        except Exception:  # maxminddb raises several types for a file that is not a database
            raise ValueError(f"{value} is not a MaxMind/GeoIP2 database") from None
        return value

    @field_validator(
        "database_url",
        "redis_url",
        "eth_rpc_url",
        "secret",
        "geoip_db",
        "subgraph_url",
        "source_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def embedded(self) -> bool:
        """True when PostgreSQL or Redis must be started by us under ``data_dir``."""
        return self.database_url is None or self.redis_url is None

    def secret_key(self) -> bytes:
        """The HMAC key: ``LPM_SECRET``, or one generated once and kept in ``data_dir``."""
        if self.secret:
            return self.secret.encode()
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting together must end up with the same key.
            try:
                with path.open("x") as f:
                    f.write(secrets.token_hex(32))
                path.chmod(0o600)
            except FileExistsError:
                pass
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; a bad value raises ``ConfigError`` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"LPM_{field.upper()}: {msg}") from None
