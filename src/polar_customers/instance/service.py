"""The server's declaration of its environment and secret, and the command line's checks
against it.

Tokens are stored as HMACs under the secret, so a token minted with another secret than the
server's is refused by it with a bare 401. The secret itself is never stored: only an HMAC of
a fixed message under it, which tells whether two secrets are the same and nothing else.
"""

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.config import Environment, Settings
from polar_customers.instance import repository
from polar_customers.kit.time import utc_now

ENVIRONMENT = "environment"
SECRET_FINGERPRINT = "secret_fingerprint"
_FINGERPRINT_MESSAGE = b"polar-customers secret fingerprint v1"


def secret_fingerprint(key: bytes) -> str:
    return hmac.new(key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


async def declare_server(session: AsyncSession, settings: Settings) -> str | None:
    """Records the serving process's environment and secret; a warning when the database's
    tokens were made under another secret (they stop working until it is set back)."""
    known = await repository.read_all(session)
    fingerprint = secret_fingerprint(settings.secret_key())
    await repository.write(
        session,
        {ENVIRONMENT: settings.environment.value, SECRET_FINGERPRINT: fingerprint},
        now=utc_now(),
    )
    previous = known.get(SECRET_FINGERPRINT)
    if previous is None or previous == fingerprint:
        return None
    return (
        "Warning: the tokens of this database were made under another secret than "
        "POLAR_CUSTOMERS_SECRET now is; they are refused until it is set back."
    )


async def is_production(session: AsyncSession, settings: Settings) -> bool:
    """Whether this process or the database's server runs in production."""
    declared = (await repository.read_all(session)).get(ENVIRONMENT)
    return Environment.production in (settings.environment, declared)


def development_only(command: str) -> str:
    return f"This database is served in production: `{command}` is for development databases only."


async def minting_problem(session: AsyncSession, settings: Settings) -> str | None:
    """Why a token minted here would not be accepted by the database's server, or None.
    The first to mint on a database no server has declared itself on records its secret."""
    known = await repository.read_all(session)
    production = known.get(ENVIRONMENT) == Environment.production.value
    if production and settings.secret is None:
        return (
            "This database is served in production, and this command would use the "
            f"development secret file {settings.development_secret_file.resolve()}.\n"
            "Set POLAR_CUSTOMERS_SECRET (and POLAR_CUSTOMERS_ENVIRONMENT=production) as the "
            "server has them."
        )
    recorded = known.get(SECRET_FINGERPRINT)
    secret_file = settings.development_secret_file.resolve()
    if recorded is not None and settings.secret is None and not secret_file.exists():
        # Not made here: a new random secret could only differ from the server's.
        return (
            f"There is no development secret file {secret_file}; the server of this "
            "database keeps its secret elsewhere.\nRun this command with the server's "
            "POLAR_CUSTOMERS_DATA_DIR (or POLAR_CUSTOMERS_SECRET)."
        )
    fingerprint = secret_fingerprint(settings.secret_key())
    if recorded is None:
        await repository.write(session, {SECRET_FINGERPRINT: fingerprint}, now=utc_now())
        return None
    if recorded != fingerprint:
        source = (
            "POLAR_CUSTOMERS_SECRET"
            if settings.secret is not None
            else f"the development secret file {secret_file}"
        )
        return (
            f"The server of this database hashes tokens with another secret than {source}: "
            "its tokens would be refused (401). Set POLAR_CUSTOMERS_SECRET to the server's."
        )
    return None
