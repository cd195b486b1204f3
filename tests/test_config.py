import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from polar_customers.config import Environment, Settings


def test_sqlite_file_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "DATA_DIR", "SECRET_FILE"):
        monkeypatch.delenv(f"POLAR_CUSTOMERS_{name}", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///polar-customers.db"
    assert settings.secret_file == Path("polar-customers.secret")


def test_the_data_directory_holds_the_database_and_the_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/polar-customers.db"
    assert settings.secret_file == tmp_path / "polar-customers.secret"
    # Settings given on their own win over the directory.
    chosen = Settings(data_dir=tmp_path, database_url="sqlite:///other.db", secret_file="s")
    assert chosen.database_url == "sqlite+aiosqlite:///other.db"
    assert chosen.secret_file == Path("s")


WEAK_SECRETS = [
    None,
    "",
    " ",
    " " * 40,
    "\t\n",
    "a",
    "password",
    " changeme",
    "CHANGEME",
    "  Change_Me\n",
    "polar",
    "x" * 31,
    "é" * 15 + "x",  # 16 characters, 31 bytes
    " " * 20 + "y" * 20 + " " * 20,  # 60 bytes, 20 of them not whitespace
    " changeme" + " " * 40,
]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=repr)
def test_production_refuses_weak_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="POLAR_CUSTOMERS_SECRET") as raised:
        Settings(
            environment=Environment.production,
            secret=None if secret is None else SecretStr(secret),
        )
    assert "at least 32 bytes" in str(raised.value)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (None, "is not set"),
        ("   ", "is only whitespace"),
        (" Password ", "is a known placeholder"),
        ("x" * 31, "is shorter than 32 bytes"),
    ],
)
def test_the_error_says_what_is_wrong(secret: str | None, problem: str) -> None:
    with pytest.raises(ValidationError, match=f"POLAR_CUSTOMERS_SECRET {problem}"):
        Settings(
            environment=Environment.production,
            secret=None if secret is None else SecretStr(secret),
        )


@pytest.mark.parametrize("secret", ["hunter2", "short-but-secret", " changeme"])
def test_a_refused_secret_from_the_environment_is_not_printed(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("POLAR_CUSTOMERS_ENVIRONMENT", "production")
    monkeypatch.setenv("POLAR_CUSTOMERS_SECRET", secret)
    with pytest.raises(ValidationError, match="POLAR_CUSTOMERS_SECRET") as raised:
        Settings()
    assert secret.strip() not in str(raised.value)
    assert secret.strip() not in repr(raised.value)


@pytest.mark.parametrize("secret", ["x" * 32, "é" * 16, "  " + "k" * 32 + "\n"])
def test_production_accepts_32_bytes(secret: str) -> None:
    settings = Settings(environment=Environment.production, secret=SecretStr(secret))
    assert settings.secret_key() == secret.encode()


def test_production_with_real_secret() -> None:
    settings = Settings(environment=Environment.production, secret=SecretStr("x" * 40))
    assert settings.secret_key() == b"x" * 40


@pytest.mark.parametrize("secret", ["a", "changeme", " "])
def test_development_takes_any_secret(secret: str) -> None:
    """Only production refuses weak secrets: development and the tests keep working."""
    assert Settings(secret=SecretStr(secret)).secret_key() == secret.encode()


def test_development_secret_created_once(tmp_path: Path) -> None:
    path = tmp_path / "dev.secret"
    settings = Settings(secret_file=path)
    first = settings.secret_key()
    assert len(first) >= 48
    assert Settings(secret_file=path).secret_key() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
