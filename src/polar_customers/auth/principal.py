"""Who is calling: resolved from the bearer token by the middleware, checked by routes."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from polar_customers.auth import repository
from polar_customers.auth.scopes import Scope, parse_scopes
from polar_customers.auth.tokens import TokenPrefix, hash_token
from polar_customers.db import RAW_CONNECTION
from polar_customers.errors import InsufficientScope, Unauthorized
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.time import utc_now


class SubjectKind(StrEnum):
    organization = "organization"
    user = "user"


@dataclass(frozen=True, slots=True)
class AuthSubject:
    """The owner of a valid token and the scopes the token carries."""

    kind: SubjectKind
    id: uuid.UUID
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authorized caller and the organizations it may see."""

    subject: AuthSubject
    organization_ids: Sequence[uuid.UUID]

    @property
    def is_organization(self) -> bool:
        return self.subject.kind == SubjectKind.organization


async def resolve_token(connection: RawConnection, token: str, *, key: bytes) -> AuthSubject | None:
    """The subject of a bearer token, or None when no usable token has that value."""
    token_hash, now = hash_token(token, key=key), utc_now()
    if not token.startswith(TokenPrefix.personal):
        oat = await repository.get_live_organization_token(
            connection, token_hash=token_hash, now=now
        )
        if oat is not None:
            organization_id, scope = oat
            return AuthSubject(SubjectKind.organization, organization_id, parse_scopes(scope))
    pat = await repository.get_live_personal_token(connection, token_hash=token_hash, now=now)
    if pat is not None:
        user_id, scope = pat
        return AuthSubject(SubjectKind.user, user_id, parse_scopes(scope))
    return None


def authorize(*accepted: Scope) -> Callable[..., Awaitable[Principal]]:
    """A route dependency admitting subjects holding any one of the `accepted` scopes."""
    challenge_scope = " ".join(accepted)

    async def dependency(request: Request) -> Principal:
        state = request.scope.get("state", {})
        subject: AuthSubject | None = state.get("auth_subject")
        if subject is None:
            raise Unauthorized()
        if subject.scopes.isdisjoint(accepted):
            raise InsufficientScope(scope=challenge_scope)
        if subject.kind == SubjectKind.organization:
            return Principal(subject, (subject.id,))
        # The connection that resolved the token (a subject implies one).
        connection: RawConnection = state[RAW_CONNECTION]
        organization_ids = await repository.list_member_organization_ids(
            connection, user_id=subject.id
        )
        return Principal(subject, organization_ids)

    return dependency
