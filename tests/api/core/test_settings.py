from pathlib import Path

import pytest

from api.core.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LPM_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = load_settings()
    assert s.chain_id == 42161
    assert s.public_h3_res == 3
    assert s.public_min_orchestrators == 3
    assert s.public_count_bin == 8
    assert s.reciprocity is False
    assert s.raw_retention_days == 7
    assert s.ingest_samples_per_second == 5000
    assert s.ingest_max_series == 20000
    assert s.embedded
    assert s.geoip_db is None


def test_reads_environment(monkeypatch: pytest.MonkeyPatch, geoip_db: Path) -> None:
    db = geoip_db
    monkeypatch.setenv("LPM_CHAIN_ID", "1")
    monkeypatch.setenv("LPM_CORS_ORIGINS", "https://explorer.livepeer.org/, http://localhost:3000")
    monkeypatch.setenv("LPM_RECIPROCITY", "1")
    monkeypatch.setenv("LPM_GEOIP_DB", str(db))
    monkeypatch.setenv("LPM_DATABASE_URL", "postgresql://x@127.0.0.1/db")
    monkeypatch.setenv("LPM_REDIS_URL", "redis://127.0.0.1:6379/0")
    s = load_settings()
    assert s.chain_id == 1
    assert s.cors_origins == ("https://explorer.livepeer.org", "http://localhost:3000")
    assert s.reciprocity is True
    assert s.geoip_db == db
    assert not s.embedded


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LPM_CHAIN_ID", "abc", "LPM_CHAIN_ID: Input should be a valid integer"),
        ("LPM_CHAIN_ID", "0", "LPM_CHAIN_ID: Input should be greater than 0"),
        ("LPM_PUBLIC_H3_RES", "16", "LPM_PUBLIC_H3_RES: Input should be less than or equal to 15"),
        ("LPM_RECIPROCITY", "maybe", "LPM_RECIPROCITY: Input should be a valid boolean"),
        (
            "LPM_GEOIP_DB",
            "/nonexistent/city.mmdb",
            "LPM_GEOIP_DB: cannot read /nonexistent/city.mmdb",
        ),
        ("LPM_COOKIE_SAMESITE", "sometimes", "LPM_COOKIE_SAMESITE: String should match pattern"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_geoip_db_that_is_not_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bogus = tmp_path / "city.mmdb"
    bogus.write_bytes(b"not a database")
    monkeypatch.setenv("LPM_GEOIP_DB", str(bogus))
    with pytest.raises(ConfigError, match=r"^LPM_GEOIP_DB: .* is not a MaxMind/GeoIP2 database$"):
        load_settings()


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LPM_GEOIP_DB", "")
    monkeypatch.setenv("LPM_DATABASE_URL", "")
    s = load_settings()
    assert s.geoip_db is None
    assert s.database_url is None


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path).secret_key()
    second = load_settings(data_dir=tmp_path).secret_key()
    assert first == second
    assert len(first) == 64
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert load_settings(data_dir=tmp_path, secret="given").secret_key() == b"given"


def test_nonce_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.nonce_burst, s.nonce_per_minute, s.nonce_max_pending) == (10, 5, 100_000)
    monkeypatch.setenv("LPM_NONCE_PER_MINUTE", "0")
    with pytest.raises(ConfigError, match=r"^LPM_NONCE_PER_MINUTE: Input should be greater than 0"):
        load_settings()
