"""The `polar-customers` command: serve, migrate, and manage organizations, users and tokens."""

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers import migrate
from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import GRANTABLE_SCOPES, Scope
from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.kit.time import utc_now
from polar_customers.organizations import repository as organizations_repository
from polar_customers.organizations import service as organizations_service
from polar_customers.subscriptions import scheduler

app = typer.Typer(help="Self-hosted server of the Polar Customers API.", no_args_is_help=True)
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


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction against the configured database, migrating
    it first (a no-op when it is current), so that every command works on a new database."""
    settings = Settings()
    migrate.upgrade(settings.database_url)

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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    migrate.upgrade(Settings().database_url)
    typer.echo("Database is up to date.")


async def _bootstrap(session: AsyncSession, settings: Settings) -> tuple[uuid.UUID, str | None]:
    """The first organization's id, creating it and a token on an empty database."""
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
    """Apply migrations once, then serve the API (a default organization on first start)."""
    settings = Settings()
    settings.secret_key()  # create the development secret before workers race for it
    organization_id, token = _run(_bootstrap)
    typer.echo(f"Polar Customers API: http://{host}:{port}")
    typer.echo(f"Organization ID: {organization_id}")
    if token is not None:
        typer.echo(f"Access token (shown once): {token}")
    else:
        typer.echo("Create an access token with: polar-customers token create --org <id>")
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


@app.command("scheduler")
def scheduler_command(
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between passes (default: POLAR_CUSTOMERS_SCHEDULER_INTERVAL)."),
    ] = None,
) -> None:
    """Renew subscriptions whose period ended (a new period and its order) and end those
    canceled at period end. `serve` runs one; several at once never renew a period twice."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
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
    name: str,
    default_currency: Annotated[
        str,
        typer.Option(
            callback=_currency_code,
            help="The currency customer balances are computed in (ISO 4217).",
        ),
    ] = "usd",
) -> None:
    """Create an organization and print its id."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        organization = await organizations_service.create_organization(
            session, name=name, default_currency=default_currency
        )
        return organization.id

    typer.echo(_run(work))


@org_app.command("list")
def org_list() -> None:
    """List organizations: id and name."""

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        organizations = await organizations_repository.list_organizations(session)
        return [f"{organization.id}  {organization.name}" for organization in organizations]

    for line in _run(work):
        typer.echo(line)


@user_app.command("create")
def user_create(email: str) -> None:
    """Create a user and print its id."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        return (await organizations_service.create_user(session, email=email)).id

    typer.echo(_run(work))


@user_app.command("add-member")
def user_add_member(
    user: Annotated[uuid.UUID, typer.Option(help="User id.")],
    org: Annotated[uuid.UUID, typer.Option(help="Organization id.")],
) -> None:
    """Make a user a member of an organization."""

    async def work(session: AsyncSession, _settings: Settings) -> uuid.UUID:
        membership = await organizations_service.add_member(
            session, user_id=user, organization_id=org
        )
        return membership.id

    try:
        typer.echo(_run(work))
    except organizations_service.NotFoundError as error:
        raise _fail(str(error)) from error


@token_app.command("create")
def token_create(
    org: Annotated[
        uuid.UUID | None, typer.Option(help="Organization id: an organization token.")
    ] = None,
    user: Annotated[uuid.UUID | None, typer.Option(help="User id: a personal token.")] = None,
    scope: ScopeOption = None,
    comment: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Lifetime.")] = None,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    if (org is None) == (user is None):
        raise _fail("Give exactly one of --org or --user.")
    scopes = scope or list(DEFAULT_SCOPES)
    expires_at = utc_now() + timedelta(days=expires_in_days) if expires_in_days else None

    async def work(session: AsyncSession, settings: Settings) -> str:
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
        typer.echo(_run(work))
    except (organizations_service.NotFoundError, ValueError) as error:
        raise _fail(str(error)) from error


@token_app.command("list")
def token_list() -> None:
    """List live tokens: id, kind, owner, scopes, expiry and comment (never the token)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        lines = []
        for token in await auth_service.list_tokens(session):
            owner = getattr(token, "organization_id", None) or getattr(token, "user_id", None)
            kind = "organization" if hasattr(token, "organization_id") else "personal"
            expires = token.expires_at.isoformat() if token.expires_at else "never"
            lines.append(f"{token.id}  {kind}  {owner}  {token.scope}  {expires}  {token.comment}")
        return lines

    for line in _run(work):
        typer.echo(line)


@token_app.command("revoke")
def token_revoke(id: uuid.UUID) -> None:
    """Revoke a token by id; it stops working at once."""

    async def work(session: AsyncSession, _settings: Settings) -> bool:
        return await auth_service.revoke_token(session, id=id)

    if not _run(work):
        raise _fail(f"No live token {id}.")
    typer.echo(f"Revoked {id}.")


def main() -> None:
    app()
