import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from polar_customers.config import Environment, Settings


def test_sqlite_file_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLAR_CUSTOMERS_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite+aiosqlite:///./polar-customers.db"


@pytest.mark.parametrize("secret", [None, "changeme", "secret"])
def test_production_refuses_placeholder_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="POLAR_CUSTOMERS_SECRET"):
        Settings(
            environment=Environment.production,
            secret=None if secret is None else SecretStr(secret),
        )


def test_production_with_real_secret() -> None:
    settings = Settings(environment=Environment.production, secret=SecretStr("x" * 40))
    assert settings.secret_key() == b"x" * 40


def test_development_secret_created_once(tmp_path: Path) -> None:
    path = tmp_path / "dev.secret"
    settings = Settings(secret_file=path)
    first = settings.secret_key()
    assert len(first) >= 48
    assert Settings(secret_file=path).secret_key() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
