"""Tokens are shown once and never kept: not in the database (only their keyed hashes), not in
the server's output, not in any answer; and a lookup finds a token only by its hash."""

import asyncio
import re
import secrets
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import String, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from polar_customers.auth.tokens import TokenPrefix, generate_token, hash_token
from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import OrganizationAccessToken
from polar_customers.organizations.repository import get_organization
from tests.factories import TEST_KEY, TEST_SECRET, bearer, create_organization, create_user
from tests.hardening.live_servers import own_database
from tests.server.support import ServerProcess, run_cli, start_server

ORGANIZATION_ID = re.compile(r"^Organization ID: (\S+)$", re.MULTILINE)
SHOWN_ONCE = re.compile(r"^Access token \(shown once\): (polar_oat_\w+)$", re.MULTILINE)
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": (
        "The access token provided is expired, revoked, malformed, or invalid for other reasons."
    ),
}


async def _cli(database_url: str, directory: Path, *args: str) -> str:
    """The output of a `polar-customers` command that must succeed, run in a thread so that
    independent commands run together."""
    result = await asyncio.to_thread(run_cli, database_url, directory, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout.strip()


def _secret_parts(tokens: Iterable[str]) -> list[str]:
    """Each token, and its random part alone (what would betray it even without its prefix)."""
    return [part for token in tokens for part in (token, token.split("_", 2)[2])]


def _assert_not_in(tokens: Iterable[str], response: httpx.Response) -> None:
    headers = [f"{name}: {value}" for name, value in response.headers.items()]
    shown = "\n".join([response.text, *headers])
    for part in _secret_parts(tokens):
        assert part not in shown, (response.request.method, response.request.url, shown)


async def _member(engine: AsyncEngine, organization_id: str) -> str:
    """A new user, member of the organization."""
    async with AsyncSession(engine) as session, session.begin():
        organization = await get_organization(session, uuid.UUID(organization_id))
        assert organization is not None
        return str((await create_user(session, member_of=[organization])).id)


async def _token_id(engine: AsyncEngine, token: str) -> str:
    """The id of an organization token, found by its hash (as `token list` shows it)."""
    async with engine.connect() as connection:
        id = await connection.scalar(
            select(OrganizationAccessToken.id).where(
                OrganizationAccessToken.token == hash_token(token, key=TEST_KEY)
            )
        )
    assert id is not None
    return str(id)


async def _database_text(engine: AsyncEngine) -> str:
    """Every value of every column of every table, as text."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert {"organization_access_tokens", "personal_access_tokens"} <= set(tables)
        return "\n".join([await _table_text(connection, table) for table in tables])


async def _table_text(connection: AsyncConnection, table: str) -> str:
    rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()
    return "\n".join(_as_text(value) for row in rows for value in row)


def _as_text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


async def _requests(server: ServerProcess, valid: list[str], invalid: list[str]) -> None:
    """Requests that succeed, fail validation, find nothing, or are refused, with each token."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
        for token in valid:
            listed = await http.get("/v1/customers/", headers=bearer(token))
            assert listed.status_code == 200, listed.text
            responses = [
                listed,
                await http.post(
                    "/v1/customers/",
                    json={"email": f"{uuid.uuid4().hex}@example.com"},
                    headers=bearer(token),
                ),
                await http.post(
                    "/v1/customers/", json={"email": "not an email"}, headers=bearer(token)
                ),
                await http.get(f"/v1/customers/{uuid.uuid4()}", headers=bearer(token)),
                await http.get("/v1/customers/not-a-uuid", headers=bearer(token)),
            ]
            assert [response.status_code for response in responses[2:]] == [422, 404, 422]
            for response in responses:
                _assert_not_in([*valid, *invalid], response)
        for token in invalid:
            for response in (
                await http.get("/v1/customers/", headers=bearer(token)),
                await http.post("/v1/customers/", json={"email": "x"}, headers=bearer(token)),
                await http.get("/v1/customers/export", headers=bearer(token)),
            ):
                assert response.status_code == 401, response.text
                assert response.json() == INVALID_TOKEN
                _assert_not_in([*valid, *invalid], response)
            other_scheme = await http.get(
                "/v1/customers/", headers={"Authorization": f"Token {token}"}
            )
            assert other_scheme.status_code == 401
            _assert_not_in([*valid, *invalid], other_scheme)


@pytest.mark.server
async def test_tokens_are_never_kept_or_shown(tmp_path: Path) -> None:
    """Tokens made by `serve` on its first start and by `token create`, used, revoked, and
    invalid ones: none is kept or shown but the first one, printed once by `serve`."""
    async with own_database(tmp_path) as database_url:
        server = start_server(database_url, tmp_path, access_log=True)
        engine = create_engine(Settings(database_url=database_url, secret=TEST_SECRET))
        try:
            [bootstrap] = SHOWN_ONCE.findall(server.output())
            [organization_id] = ORGANIZATION_ID.findall(server.output())
            user_id = await _member(engine, organization_id)
            organization_token, revoked, personal_token = await asyncio.gather(
                _cli(database_url, tmp_path, "token", "create", "--org", organization_id),
                _cli(database_url, tmp_path, "token", "create", "--org", organization_id),
                _cli(database_url, tmp_path, "token", "create", "--user", user_id,
                     "--expires-in-days", "1"),
            )  # fmt: skip
            await _cli(database_url, tmp_path, "token", "revoke", await _token_id(engine, revoked))
            valid = [bootstrap, organization_token, personal_token]
            invalid = [
                revoked,
                generate_token(TokenPrefix.organization),
                generate_token(TokenPrefix.personal),
                organization_token[:-1] + ("A" if organization_token[-1] != "A" else "B"),
                f"polar_oat_{secrets.token_urlsafe(600)}",
            ]
            await _requests(server, valid, invalid)
            server.stop()

            # The one token `serve` made is printed once, as it says; nothing else ever is.
            output = server.output()
            assert output.count(bootstrap) == 1
            assert "GET /v1/customers/ HTTP/1.1" in output  # the access log was on
            for part in _secret_parts([organization_token, personal_token, *invalid]):
                assert part not in output
            for part in _secret_parts([bootstrap]):
                assert part not in SHOWN_ONCE.sub("", output)

            # Stored: the keyed hashes of the tokens, never the tokens.
            stored = await _database_text(engine)
            for token in (*valid, revoked):
                assert hash_token(token, key=TEST_KEY) in stored
            for part in _secret_parts([*valid, *invalid]):
                assert part not in stored
        finally:
            server.stop()
            await engine.dispose()


async def test_a_token_is_found_by_its_hash_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A row holding a token as it is written (not its hash) does not make it valid: the
    token is hashed before any lookup, and the database compares hashes."""
    organization = await create_organization(session)
    token = generate_token(TokenPrefix.organization)
    session.add(
        OrganizationAccessToken(
            organization_id=organization.id, token=token, scope="customers:read", comment=""
        )
    )
    await session.flush()
    response = await client.get("/v1/customers/", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


@pytest.mark.parametrize("table", ["organization_access_tokens", "personal_access_tokens"])
async def test_token_hashes_are_looked_up_by_a_unique_index(
    connection: AsyncConnection, table: str
) -> None:
    """A lookup is one probe of a unique index on the hash, not a scan comparing tokens; and
    a 64-character column holds a SHA-256 hex digest, not a 53-character token."""

    def unique_columns(sync: Any) -> list[list[str]]:
        inspector = inspect(sync)
        constraints = inspector.get_unique_constraints(table)
        indexes = [index for index in inspector.get_indexes(table) if index["unique"]]
        return [list(unique["column_names"]) for unique in [*constraints, *indexes]]

    assert ["token"] in await connection.run_sync(unique_columns)
    column = {
        column["name"]: column
        for column in await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    }["token"]
    assert isinstance(column["type"], String)
    assert column["type"].length == 64
