from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cabinet.core.security.tokens import TokenCodec, TokenInvalid
from cabinet.settings import ConfigurationError, Settings, to_async_url


@pytest.mark.parametrize(
    ("plain", "async_url"),
    [
        ("sqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_get_async_drivers(plain: str, async_url: str) -> None:
    assert to_async_url(plain) == async_url


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        to_async_url("mysql://root@localhost/db")


def test_embedded_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, secret_key=None)
    assert settings.create_secret_file()
    first = settings.server_secret()
    assert not Settings(data_dir=tmp_path, secret_key=None).create_secret_file()
    assert first == Settings(data_dir=tmp_path, secret_key=None).server_secret()
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
    assert len(first) >= 32


def test_reading_the_secret_creates_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    settings = Settings(data_dir=data_dir, database_url=None, secret_key=None)
    settings.check_secret()
    with pytest.raises(ConfigurationError, match="first start"):
        settings.server_secret()
    assert not data_dir.exists()


async def test_the_secret_is_read_once_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cabinet.domains.registry import build_services
    from cabinet.resources import build_resources

    reads: list[bytes] = []
    read = Settings.server_secret

    def counted(self: Settings) -> bytes:
        reads.append(read(self))
        return reads[-1]

    monkeypatch.setattr(Settings, "server_secret", counted)
    settings = Settings(data_dir=tmp_path, database_url=None, secret_key=None)
    resources = build_resources(settings)
    try:
        build_services(resources)
    finally:
        await resources.close()
    assert len(reads) == 1 and resources.secret == reads[0]


def test_postgres_profile_needs_a_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u@h/db", secret_key=None)
    with pytest.raises(ConfigurationError, match="CABINET_SECRET_KEY"):
        settings.server_secret()


def test_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        Settings(data_dir=tmp_path, secret_key="short").server_secret()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CABINET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CABINET_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("CABINET_DATABASE_URL", "")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.is_embedded


def test_token_round_trip_and_expiry() -> None:
    codec = TokenCodec(b"k" * 48)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token, claims = codec.issue(
        user_id=7, company="acme", roles=["USER"], typ="access", ver=3, now=now, ttl=timedelta(seconds=60)
    )
    decoded = codec.decode(token, now=now + timedelta(seconds=59))
    assert (decoded.user_id, decoded.company, decoded.roles, decoded.ver, decoded.jti) == (
        7,
        "acme",
        ("USER",),
        3,
        claims.jti,
    )
    with pytest.raises(TokenInvalid) as info:
        codec.decode(token, now=now + timedelta(seconds=60))
    assert info.value.expired
    with pytest.raises(TokenInvalid):
        TokenCodec(b"other" * 10).decode(token, now=now)
    with pytest.raises(TokenInvalid):
        codec.decode("not.a.token", now=now)


def test_verified_tokens_are_remembered_but_expire_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from cabinet.core.security import tokens as tokens_module

    codec = TokenCodec(b"k" * 48)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token, _ = codec.issue(user_id=7, company="acme", roles=["USER"], typ="access", ver=3, now=now, ttl=timedelta(60))
    verified = 0
    real_decode = tokens_module.jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        nonlocal verified
        verified += 1
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens_module.jwt, "decode", counting_decode)
    first = codec.decode(token, now=now)
    assert codec.decode(token, now=now + timedelta(days=59)) == first
    assert verified == 1  # the second use skipped the signature check
    with pytest.raises(TokenInvalid) as info:  # expiry is still checked on every use
        codec.decode(token, now=now + timedelta(days=60))
    assert info.value.expired
    header, payload, signature = token.split(".")
    tampered = ("B" if signature[0] != "B" else "C") + signature[1:]
    for forged in (f"{header}.{payload}.{tampered}", f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(TokenInvalid):  # a token differing in any character is verified afresh
            codec.decode(forged, now=now)
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    for user_id in range(10):
        other, _ = codec.issue(user_id=user_id, company="a", roles=[], typ="access", ver=0, now=now, ttl=timedelta(1))
        codec.decode(other, now=now)
    assert len(codec._verified) <= 3
