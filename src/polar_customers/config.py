"""Server settings, read from the environment (prefix ``POLAR_CUSTOMERS_``)."""

import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./polar-customers.db"
PLACEHOLDER_SECRETS = frozenset({"", "secret", "changeme", "change-me", "dev", "development"})


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """All configuration of one server process."""

    model_config = SettingsConfigDict(env_prefix="POLAR_CUSTOMERS_", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    # HMAC key for token hashes. In development an unset secret is generated once and
    # kept in `secret_file`, so that every process on the machine agrees on it.
    secret: SecretStr | None = None
    secret_file: Path = Path("polar-customers.secret")
    email_check_deliverability: bool = False
    database_pool_size: int = 5
    # Seconds a request waits for a pooled connection before it is answered 503.
    database_pool_timeout: float = 5.0
    # Seconds a client has to send a request's whole body before it is answered 408.
    request_body_timeout: float = 30.0
    sqlite_busy_timeout_ms: int = 30_000
    # Seconds between the scheduler's passes over subscriptions whose period ended; 0 keeps
    # `serve` from starting a scheduler (run `polar-customers scheduler` elsewhere).
    scheduler_interval: float = 10.0

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment == Environment.production and (
            self.secret is None or self.secret.get_secret_value().lower() in PLACEHOLDER_SECRETS
        ):
            raise ValueError("POLAR_CUSTOMERS_SECRET must be set to a real secret in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def secret_key(self) -> bytes:
        """The HMAC key for token hashes, creating the development secret file if needed."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        try:
            descriptor = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.secret_file.read_text().strip().encode()
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        return self.secret_file.read_text().strip().encode()
