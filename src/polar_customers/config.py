"""Server settings, read from the environment (prefix ``POLAR_CUSTOMERS_``)."""

import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from polar_customers.database_url import SQLITE_DRIVER, is_sqlite, normalize_database_url

DATABASE_FILE = "polar-customers.db"
SECRET_FILE = "polar-customers.secret"
MIN_SECRET_BYTES = 32
# Values copied from examples rather than generated, compared trimmed and in any case. Most are
# also too short; naming them says better what is wrong.
PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme", "change-me", "change_me", "change me", "changeit", "change-this",
        "secret", "secret-key", "secret_key", "secretkey", "my-secret", "mysecret",
        "your-secret", "your_secret", "your-secret-here", "your-secret-key",
        "password", "passw0rd", "dev", "development", "test", "testing", "example",
        "default", "polar", "polar-customers", "polar_customers", "placeholder",
        "replace-me", "replaceme", "insecure", "todo", "xxx", "null", "none",
    }
)  # fmt: skip


def weak_secret_problem(secret: str | None) -> str | None:
    """What makes a secret unfit for production, or None. Surrounding whitespace does not count
    towards the length: a short secret padded with spaces is still short."""
    if secret is None:
        return "is not set"
    trimmed = secret.strip()
    if not trimmed:
        return "is only whitespace"
    if trimmed.casefold() in PLACEHOLDER_SECRETS:
        return "is a known placeholder"
    if len(trimmed.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    return None


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """All configuration of one server process."""

    # Errors never quote the values: they would print the secret (and the database password).
    model_config = SettingsConfigDict(
        env_prefix="POLAR_CUSTOMERS_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.development
    # Where the embedded SQLite database and the development secret live unless
    # `database_url` and `secret_file` say otherwise.
    data_dir: Path = Path()
    # Any of sqlite:///path, postgresql://..., postgres://... (database_url.py); unset: the
    # SQLite file in `data_dir`.
    database_url: str = Field(default="", validate_default=False)
    # HMAC key for token hashes. In development an unset secret is generated once and
    # kept in `secret_file`, so that every process on the machine agrees on it.
    secret: SecretStr | None = None
    secret_file: Path | None = None
    # Show the traceback of a command's error instead of its one-line explanation.
    debug: bool = False
    email_check_deliverability: bool = False
    # A CSV export cell starting with = + - @ tab, CR or LF gets a leading single quote, so that
    # spreadsheets do not run it as a formula (docs/decisions.md#d46); false keeps the hosted
    # API's exact bytes.
    export_neutralize_formulas: bool = True
    database_pool_size: int = 5
    # Seconds to wait for PostgreSQL to accept a new connection (asyncpg waits 60 by default).
    database_connect_timeout: PositiveFloat = 10.0
    # Seconds a request waits for a pooled connection before it is answered 503.
    database_pool_timeout: float = 5.0
    # Seconds a client has to send a request's whole body before it is answered 408.
    request_body_timeout: float = 30.0
    # What one request may make the server hold, refused before any other work
    # (docs/decisions.md#d48): body 413, header fields 431 (total bytes, count), URL 414.
    max_request_body_bytes: PositiveInt = 1_048_576
    # An ingest batch may hold 10,000 events (Polar's maximum) of about 1.6 KB each.
    max_ingest_body_bytes: PositiveInt = 16_777_216
    max_request_header_bytes: PositiveInt = 32_768
    max_request_headers: PositiveInt = 100
    max_url_bytes: PositiveInt = 8_192
    sqlite_busy_timeout_ms: int = 30_000
    # Seconds between the scheduler's passes over subscriptions whose period ended; 0 keeps
    # `serve` from starting a scheduler (run `polar-customers scheduler` elsewhere).
    scheduler_interval: float = 10.0
    # Rate limiting of /v1, off by default (docs/decisions.md#d47): requests per minute per
    # organization token (per user for personal tokens) and per client address for anonymous
    # requests. Each process counts on its own and adds its counts to the database's every
    # `rate_limit_sync_interval_ms`, or sooner when a subject nears its limit.
    rate_limit_enabled: bool = False
    rate_limit_per_minute: PositiveInt = 500
    rate_limit_anonymous_per_minute: PositiveInt = 500
    rate_limit_sync_interval_ms: PositiveInt = 500

    @field_validator("database_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return normalize_database_url(value) if value else value

    @model_validator(mode="after")
    def _data_dir_defaults(self) -> "Settings":
        self.data_dir = self.data_dir.expanduser()
        if not self.database_url:
            self.database_url = f"{SQLITE_DRIVER}:///{self.data_dir / DATABASE_FILE}"
        if self.secret_file is None:
            self.secret_file = self.data_dir / SECRET_FILE
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment != Environment.production:
            return self
        problem = weak_secret_problem(
            None if self.secret is None else self.secret.get_secret_value()
        )
        if problem is not None:
            raise ValueError(
                f"POLAR_CUSTOMERS_SECRET {problem}: production requires a random secret of at "
                f"least {MIN_SECRET_BYTES} bytes (UTF-8), for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.database_url)

    @property
    def development_secret_file(self) -> Path:
        assert self.secret_file is not None  # set by _data_dir_defaults
        return self.secret_file

    def secret_key(self) -> bytes:
        """The HMAC key for token hashes, creating the development secret file if needed."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        path = self.development_secret_file
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip().encode()
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()
