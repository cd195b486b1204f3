"""The `polar-customers` command: serve, migrate, and manage organizations, users and tokens.

Every command says on stderr which database it acts on. Only `serve` and `db upgrade` create
a database that does not exist; the others refuse unless given `--create`, so that a command
run from the wrong directory does not quietly start an empty one. A mistake in the
configuration is one or two lines naming the setting (cli_errors.py), not a traceback.
"""

import asyncio
import logging
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers import database_reset, migrate
from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import GRANTABLE_SCOPES, Scope
from polar_customers.cli_errors import explain
from polar_customers.cli_output import command_name, table
from polar_customers.config import Settings
from polar_customers.database_setup import SetupError, ensure_database
from polar_customers.database_url import describe
from polar_customers.db import Database
from polar_customers.demo import DEMO_STEPS, DemoReport, fill_demo
from polar_customers.errors import AppError
from polar_customers.instance import service as instance_service
from polar_customers.kit.time import utc_now
from polar_customers.organizations import repository as organizations_repository
from polar_customers.organizations import service as organizations_service
from polar_customers.subscriptions import scheduler

app = typer.Typer(
    help="Self-hosted server of the Polar Customers API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
user_app = typer.Typer(help="Users and their memberships.", no_args_is_help=True)
token_app = typer.Typer(help="Access tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

T = TypeVar("T")
# Every scope of the API resources (organization management stays opt-in).
DEFAULT_SCOPES = tuple(
    scope for scope in GRANTABLE_SCOPES if not scope.startswith("organizations:")
)
ScopeOption = Annotated[
    list[Scope] | None,
    typer.Option(
        "--scope",
        help=f"One of {', '.join(GRANTABLE_SCOPES)}; repeat for several "
        "(default: every scope but organizations:read and organizations:write).",
    ),
]
CreateOption = Annotated[
    bool,
    typer.Option(
        "--create", help="Create the database if it does not exist (else this is an error)."
    ),
]
# The widths of the columns that hold them (models/organization.py, models/access_token.py).
MAX_ORGANIZATION_NAME = 255
MAX_TOKEN_COMMENT = 255
MAX_EMAIL = 320
TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})  # as pydantic reads a boolean


@app.callback()
def options(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory of the SQLite database and the development secret "
            "(POLAR_CUSTOMERS_DATA_DIR; default: the current directory).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option(help="Show the traceback of an error (POLAR_CUSTOMERS_DEBUG).")
    ] = False,
) -> None:
    # Through the environment, so that the server's worker processes see them too.
    if data_dir is not None:
        os.environ["POLAR_CUSTOMERS_DATA_DIR"] = str(data_dir.expanduser().resolve())
    if debug:
        os.environ["POLAR_CUSTOMERS_DEBUG"] = "true"


def _open(*, create: bool, announce: bool = True) -> Settings:
    """The settings, once the database they name exists and is migrated."""
    settings = Settings()
    if announce:
        typer.echo(f"Database: {describe(settings.database_url)}", err=True)
    ensure_database(settings, create=create)
    migrate.upgrade(settings.database_url)
    return settings


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]], *, create: bool = False) -> T:
    """Run `work` in one committed transaction against the configured database."""
    return _in_transaction(_open(create=create), work)


def _in_transaction(
    settings: Settings, work: Callable[[AsyncSession, Settings], Awaitable[T]]
) -> T:
    async def main() -> T:
        database = Database(settings)
        try:
            async with database.write_sessions() as session, session.begin():
                return await work(session, settings)
        finally:
            await database.dispose()

    return asyncio.run(main())


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _within(limit: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise typer.BadParameter(f"{what} is at most {limit} characters")
        return value

    return check


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database if needed and apply pending migrations."""
    _open(create=True)
    typer.echo("Database is up to date.")


@db_app.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every row of a development database (organizations, tokens, customers...)."""
    settings = _open(create=False)
    if not yes:
        if not sys.stdin.isatty():
            raise _fail("Not asking without a terminal: pass --yes to empty the database.")
        typer.confirm(f"Delete every row of the {describe(settings.database_url)}?", abort=True)

    async def work(session: AsyncSession, settings: Settings) -> None:
        if await instance_service.is_production(session, settings):
            raise SetupError(instance_service.development_only("db reset"))
        with typer.progressbar(
            length=database_reset.TABLES, label="Emptying tables", file=sys.stderr
        ) as bar:
            await database_reset.empty_tables(session, bar.update)

    _in_transaction(settings, work)
    typer.echo(f"Emptied. `{command_name()} serve` starts over with a new organization and token.")


async def _bootstrap(session: AsyncSession, settings: Settings) -> tuple[uuid.UUID, str | None]:
    """The first organization's id, creating it and a token on an empty database; records
    the server's environment and secret for the command line's checks."""
    warning = await instance_service.declare_server(session, settings)
    if warning is not None:
        typer.secho(warning, fg=typer.colors.YELLOW, err=True)
    organizations = await organizations_repository.list_organizations(session)
    if organizations:
        return organizations[0].id, None
    organization = await organizations_service.create_organization(
        session, name="Default organization"
    )
    _, token = await auth_service.create_organization_token(
        session,
        organization_id=organization.id,
        scopes=DEFAULT_SCOPES,
        key=settings.secret_key(),
        comment="created on first start",
    )
    return organization.id, token


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Create the database if needed, apply migrations once, then serve the API (a default
    organization and token on first start)."""
    _check_can_listen(host, port)
    settings = Settings()
    if settings.secret is None:
        # Created before the workers start, so that they do not race for it; they find it
        # by its absolute path whatever their directory.
        settings.development_secret_file.parent.mkdir(parents=True, exist_ok=True)
        settings.secret_key()
        os.environ["POLAR_CUSTOMERS_SECRET_FILE"] = str(settings.development_secret_file.resolve())
    organization_id, token = _run(_bootstrap, create=True)
    typer.echo(f"Polar Customers API: http://{host}:{port}")
    typer.echo(f"Organization ID: {organization_id}")
    if token is not None:
        typer.echo(f"Access token (shown once): {token}")
    else:
        typer.echo(f"Create an access token with: {command_name()} token create --org <id>")
    os.environ["POLAR_CUSTOMERS_DATABASE_URL"] = settings.database_url
    with scheduler.beside_server(settings):
        uvicorn.run(
            "polar_customers.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            proxy_headers=True,
            http="polar_customers.http_protocol:LimitedHttpToolsProtocol",
        )


def _check_can_listen(host: str, port: int) -> None:
    """Refuses a taken port before the first start mints a token that would scroll by."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise SetupError(f"Cannot listen on {host}: {error.strerror}. Fix --host.") from None
    family, kind, protocol, _, address = addresses[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            raise SetupError(
                f"Cannot listen on {host}:{port}: {error.strerror}.\n"
                "Stop what uses it, or choose another port with --port."
            ) from None


@app.command("scheduler")
def scheduler_command(
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between passes (default: POLAR_CUSTOMERS_SCHEDULER_INTERVAL)."),
    ] = None,
    create: CreateOption = False,
    beside_server: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Renew subscriptions whose period ended (a new period and its order) and end those
    canceled at period end. `serve` runs one; several at once never renew a period twice."""
    # Started by `serve` (`--beside-server`), which named the database already.
    settings = _open(create=create, announce=not beside_server)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    every = settings.scheduler_interval if interval is None else interval
    try:
        done = asyncio.run(scheduler.run(settings, interval=max(every, 0.1), once=once))
    except KeyboardInterrupt:
        return
    if once:
        typer.echo(f"{done.renewed} periods renewed, {done.ended} subscriptions ended")


def _currency_code(value: str) -> str:
    if len(value) != 3 or not (value.isascii() and value.isalpha()):
        raise typer.BadParameter("a three-letter ISO 4217 code, such as usd or eur")
    return value.lower()


@org_app.command("create")
def org_create(
    name: Annotated[
        str, typer.Argument(callback=_within(MAX_ORGANIZATION_NAME, "The name"), show_default=False)
    ],
    default_currency: Annotated[
        str,
        typer.Option(
            callback=_currency_code,
            help="The currency customer balances are computed in (ISO 4217).",
        ),
    ] = "usd",
    create: CreateOption = False,
) -> None:
    """Create an organization and print its id."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        organization = await organizations_service.create_organization(
            session, name=name, default_currency=default_currency
        )
        return organization.id

    typer.echo(_run(work, create=create))


@org_app.command("list")
def org_list(create: CreateOption = False) -> None:
    """List organizations: id, default currency and name."""

    async def work(session: AsyncSession, _settings: Settings) -> list[list[str]]:
        organizations = await organizations_repository.list_organizations(session)
        return [
            [str(organization.id), organization.default_currency.upper(), organization.name]
            for organization in organizations
        ]

    for line in table(["ID", "CURRENCY", "NAME"], _run(work, create=create)):
        typer.echo(line)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(callback=_within(MAX_EMAIL, "The email"))],
    create: CreateOption = False,
) -> None:
    """Create a user and print its id."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        return (await organizations_service.create_user(session, email=email)).id

    try:
        typer.echo(_run(work, create=create))
    except organizations_service.AlreadyExistsError as error:
        raise _fail(str(error)) from error


@user_app.command("add-member")
def user_add_member(
    user: Annotated[uuid.UUID, typer.Option(help="User id.")],
    org: Annotated[uuid.UUID, typer.Option(help="Organization id.")],
    create: CreateOption = False,
) -> None:
    """Make a user a member of an organization."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        membership = await organizations_service.add_member(
            session, user_id=user, organization_id=org
        )
        return membership.id

    try:
        typer.echo(_run(work, create=create))
    except organizations_service.NotFoundError as error:
        raise _fail(str(error)) from error


async def _refuse_foreign_secret(session: AsyncSession, settings: Settings) -> None:
    problem = await instance_service.minting_problem(session, settings)
    if problem is not None:
        raise SetupError(problem)


@token_app.command("create")
def token_create(
    org: Annotated[
        uuid.UUID | None, typer.Option(help="Organization id: an organization token.")
    ] = None,
    user: Annotated[uuid.UUID | None, typer.Option(help="User id: a personal token.")] = None,
    scope: ScopeOption = None,
    comment: Annotated[
        str,
        typer.Option(help="What the token is for.", callback=_within(MAX_TOKEN_COMMENT, "It")),
    ] = "",
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Lifetime.")] = None,
    create: CreateOption = False,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    if (org is None) == (user is None):
        raise _fail("Give exactly one of --org or --user.")
    scopes = scope or list(DEFAULT_SCOPES)
    expires_at = utc_now() + timedelta(days=expires_in_days) if expires_in_days else None

    async def work(session: AsyncSession, settings: Settings) -> str:
        await _refuse_foreign_secret(session, settings)
        key = settings.secret_key()
        if org is not None:
            if await organizations_repository.get_organization(session, org) is None:
                raise organizations_service.NotFoundError(f"no organization {org}")
            return (
                await auth_service.create_organization_token(
                    session,
                    organization_id=org,
                    scopes=scopes,
                    key=key,
                    comment=comment,
                    expires_at=expires_at,
                )
            )[1]
        assert user is not None
        if await organizations_repository.get_user(session, user) is None:
            raise organizations_service.NotFoundError(f"no user {user}")
        return (
            await auth_service.create_personal_token(
                session,
                user_id=user,
                scopes=scopes,
                key=key,
                comment=comment,
                expires_at=expires_at,
            )
        )[1]

    try:
        typer.echo(_run(work, create=create))
    except (organizations_service.NotFoundError, ValueError) as error:
        raise _fail(str(error)) from error


@token_app.command("list")
def token_list(create: CreateOption = False) -> None:
    """List live tokens: id, kind, owner, scopes, expiry and comment (never the token)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[list[str]]:
        rows = []
        for token in await auth_service.list_tokens(session):
            owner = getattr(token, "organization_id", None) or getattr(token, "user_id", None)
            kind = "organization" if hasattr(token, "organization_id") else "personal"
            expires = token.expires_at.isoformat() if token.expires_at else "never"
            rows.append([str(token.id), kind, str(owner), token.scope, expires, token.comment])
        return rows

    rows = _run(work, create=create)
    for line in table(["ID", "KIND", "OWNER", "SCOPES", "EXPIRES", "COMMENT"], rows):
        typer.echo(line)


@token_app.command("revoke")
def token_revoke(id: uuid.UUID, create: CreateOption = False) -> None:
    """Revoke a token by id; it stops working at once."""

    async def work(session: AsyncSession, _settings: Settings) -> bool:
        return await auth_service.revoke_token(session, id=id)

    if not _run(work, create=create):
        raise _fail(f"No live token {id}.")
    typer.echo(f"Revoked {id}.")


@app.command()
def demo(
    org: Annotated[
        uuid.UUID | None,
        typer.Option(help="Organization to fill (default: the first, created if none)."),
    ] = None,
    create: CreateOption = False,
) -> None:
    """Fill an organization with sample customers, a product with benefits and a meter,
    subscriptions, usage, orders and payments; print what it made and a new token. Running
    it again adds nothing."""
    settings = _open(create=create)

    async def main() -> tuple[DemoReport, str]:
        database = Database(settings)
        try:
            async with database.write_sessions() as session, session.begin():
                # Sample data has no place among real customers.
                if await instance_service.is_production(session, settings):
                    raise SetupError(instance_service.development_only("demo"))
                await _refuse_foreign_secret(session, settings)
                organization_id = org if org is not None else (await _bootstrap_demo(session))
                if (
                    await organizations_repository.get_organization(session, organization_id)
                    is None
                ):
                    raise SetupError(f"There is no organization {organization_id}.")
            with typer.progressbar(length=DEMO_STEPS, label="Demo data", file=sys.stderr) as bar:
                report = await fill_demo(database, organization_id, progress=bar.update)
            async with database.write_sessions() as session, session.begin():
                _, token = await auth_service.create_organization_token(
                    session,
                    organization_id=organization_id,
                    scopes=DEFAULT_SCOPES,
                    key=settings.secret_key(),
                    comment="polar-customers demo",
                )
            return report, token
        finally:
            await database.dispose()

    try:
        report, token = asyncio.run(main())
    except AppError as error:
        # Such as a customer of the organization that has a demo customer's email already.
        raise _fail(f"The demo data could not be written: {_detail(error.detail)}") from error
    typer.echo("Made:" if report.created else "Already there, nothing added:")
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"Organization ID: {report.organization_id}")
    typer.echo(f"Access token (shown once): {token}")


def _detail(detail: object) -> str:
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg')}"
            f" ({item.get('input')!r})"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail)


async def _bootstrap_demo(session: AsyncSession) -> uuid.UUID:
    organizations = await organizations_repository.list_organizations(session)
    if organizations:
        return organizations[0].id
    organization = await organizations_service.create_organization(
        session, name="Default organization"
    )
    return organization.id


def _database_url() -> str | None:
    try:
        return Settings().database_url
    except Exception:
        return None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if os.environ.get("POLAR_CUSTOMERS_DEBUG", "").strip().lower() in TRUE:
            raise
        for line in explain(error, _database_url()):
            typer.secho(line, fg=typer.colors.RED, err=True)
        sys.exit(1)
