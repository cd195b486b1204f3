"""Who is calling: resolved from the bearer token by the middleware, checked by routes."""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from pydantic import UUID4, TypeAdapter, ValidationError
from starlette.types import Scope as AsgiScope

from polar_customers.auth import repository
from polar_customers.auth.scopes import RESERVED_SCOPES, Scope, parse_scopes
from polar_customers.auth.tokens import TokenPrefix, hash_token
from polar_customers.errors import InsufficientScope, PolarRequestValidationError, Unauthorized
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.tenancy import OrganizationIds, narrow
from polar_customers.kit.time import utc_now


class SubjectKind(StrEnum):
    organization = "organization"
    user = "user"


@dataclass(frozen=True, slots=True)
class AuthSubject:
    """The owner of a valid token, the scopes the token carries and the organizations it may
    act in (its own for an organization token, the user's memberships for a personal one)."""

    kind: SubjectKind
    id: uuid.UUID
    scopes: frozenset[Scope]
    organization_ids: OrganizationIds


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose token holds a scope the route accepts, and the organizations the request
    acts in: the token's, or the one its `Polar-Organization` header selects among them."""

    subject: AuthSubject
    organization_ids: OrganizationIds
    selected: bool = False
    """Whether `Polar-Organization` chose the organization (then new rows go to it)."""

    @property
    def is_organization(self) -> bool:
        return self.subject.kind == SubjectKind.organization

    @property
    def acts_in_one(self) -> bool:
        """Whether the request acts in exactly one organization, known without asking."""
        return self.is_organization or self.selected


async def resolve_token(connection: RawConnection, token: str, *, key: bytes) -> AuthSubject | None:
    """The subject of a bearer token, or None when no usable token has that value."""
    token_hash, now = hash_token(token, key=key), utc_now()
    if not token.startswith(TokenPrefix.personal):
        oat = await repository.get_live_organization_token(
            connection, token_hash=token_hash, now=now
        )
        if oat is not None:
            organization_id, scope = oat
            return AuthSubject(
                SubjectKind.organization,
                organization_id,
                parse_scopes(scope),
                OrganizationIds((organization_id,)),
            )
    pat = await repository.get_live_personal_token(connection, token_hash=token_hash, now=now)
    if pat is None:
        return None
    user_id, scope = pat
    memberships = await repository.list_member_organization_ids(connection, user_id=user_id)
    return AuthSubject(
        SubjectKind.user, user_id, parse_scopes(scope), OrganizationIds(tuple(memberships))
    )


class Authorizer:
    """A route dependency admitting subjects that hold any one of the `accepted` scopes. The
    route layer (kit/routing.py) documents the route's scopes from it."""

    def __init__(self, *accepted: Scope) -> None:
        self.accepted = frozenset(accepted)
        self.challenge_scope = " ".join(accepted)  # in a fixed order (docs/decisions.md#d10)
        self.documented_scopes = tuple(scope for scope in accepted if scope not in RESERVED_SCOPES)

    async def __call__(self, request: Request) -> Principal:
        subject: AuthSubject | None = request.scope.get("state", {}).get("auth_subject")
        if subject is None:
            raise Unauthorized()
        if subject.scopes.isdisjoint(self.accepted):
            raise InsufficientScope(scope=self.challenge_scope)
        selected = selected_organization(request.scope)
        if selected is None:
            return Principal(subject, subject.organization_ids)
        if selected not in subject.organization_ids:
            raise PolarRequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("header", ORGANIZATION_HEADER),
                        "msg": "Organization not found.",
                        "input": str(selected),
                    }
                ]
            )
        return Principal(subject, OrganizationIds((selected,)), selected=True)


ORGANIZATION_HEADER = "Polar-Organization"
_ORGANIZATION_KEY = ORGANIZATION_HEADER.lower().encode()
_ORGANIZATION_ID: TypeAdapter[uuid.UUID] = TypeAdapter(UUID4)


def selected_organization(scope: AsgiScope) -> uuid.UUID | None:
    """The organization a `Polar-Organization` header selects (today's clients send it for
    tokens that reach several organizations); a 422 when it is not a UUID4
    (docs/decisions.md#d32)."""
    for name, value in scope["headers"]:
        if name == _ORGANIZATION_KEY:
            text = value.decode("latin-1").strip()
            try:
                return _ORGANIZATION_ID.validate_python(text)
            except ValidationError as error:
                raise PolarRequestValidationError(
                    [
                        {
                            "type": item["type"],
                            "loc": ("header", ORGANIZATION_HEADER),
                            "msg": item["msg"],
                            "input": text,
                        }
                        for item in error.errors()
                    ]
                ) from None
    return None


def organization_of_new(principal: Principal, requested: uuid.UUID | None) -> OrganizationIds:
    """The one organization a new row (a customer, a product, a benefit, a meter) goes to:
    the organization token's, the one `Polar-Organization` selects, or the one a personal
    token names in the body's `organization_id` among its own; else a 422 at that field."""

    def invalid(message: str, value: str | None, kind: str = "value_error") -> Exception:
        return PolarRequestValidationError(
            [{"type": kind, "loc": ("body", "organization_id"), "msg": message, "input": value}]
        )

    if principal.is_organization:
        if requested is not None:
            message = "Setting organization_id is disallowed when using an organization token."
            raise invalid(message, str(requested), "organization_token")
        return principal.organization_ids
    if requested is None:
        if principal.selected:
            return principal.organization_ids
        raise invalid("organization_id is required.", None, "missing")
    organization_ids = narrow(principal.organization_ids, [requested])
    if not organization_ids:
        raise invalid("Organization not found.", str(requested))
    return organization_ids
