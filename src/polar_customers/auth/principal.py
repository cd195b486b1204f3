"""Who is calling: resolved from the bearer token by the middleware, checked by routes."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth import repository
from polar_customers.auth.scopes import Scope, parse_scopes
from polar_customers.auth.tokens import TokenPrefix, hash_token
from polar_customers.db import SessionDependency
from polar_customers.errors import InsufficientScope, Unauthorized
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


async def resolve_token(session: AsyncSession, token: str, *, key: bytes) -> AuthSubject | None:
    """The subject of a bearer token, or None when no usable token has that value."""
    token_hash, now = hash_token(token, key=key), utc_now()
    if not token.startswith(TokenPrefix.personal):
        oat = await repository.get_live_organization_token(session, token_hash=token_hash, now=now)
        if oat is not None:
            return AuthSubject(
                SubjectKind.organization, oat.organization_id, parse_scopes(oat.scope)
            )
    pat = await repository.get_live_personal_token(session, token_hash=token_hash, now=now)
    if pat is not None:
        return AuthSubject(SubjectKind.user, pat.user_id, parse_scopes(pat.scope))
    return None


def authorize(*accepted: Scope) -> Callable[..., Awaitable[Principal]]:
    """A route dependency admitting subjects holding any one of the `accepted` scopes."""
    challenge_scope = " ".join(accepted)

    async def dependency(request: Request, session: SessionDependency) -> Principal:
        subject: AuthSubject | None = request.scope.get("state", {}).get("auth_subject")
        if subject is None:
            raise Unauthorized()
        if subject.scopes.isdisjoint(accepted):
            raise InsufficientScope(scope=challenge_scope)
        if subject.kind == SubjectKind.organization:
            return Principal(subject, (subject.id,))
        organization_ids = await repository.list_member_organization_ids(
            session, user_id=subject.id
        )
        return Principal(subject, organization_ids)

    return dependency
