"""Service rules that HTTP cannot reach deterministically: the database as the final guard."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import AuthSubject, Principal, SubjectKind
from polar_customers.auth.scopes import Scope
from polar_customers.customers import repository, service
from polar_customers.customers.schemas import CustomerIndividualCreate
from polar_customers.errors import PolarRequestValidationError
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import Organization
from tests.factories import create_customer


def principal_of(organization: Organization) -> Principal:
    organization_ids = OrganizationIds((organization.id,))
    subject = AuthSubject(
        SubjectKind.organization, organization.id, frozenset(Scope), organization_ids
    )
    return Principal(subject, organization_ids)


class TestDatabaseConstraints:
    async def test_email_unique_case_insensitive_among_live(
        self, session: AsyncSession, organization: Organization
    ) -> None:
        await create_customer(session, organization=organization, email="Dup@example.com")
        async with session.begin_nested():
            with pytest.raises(IntegrityError):
                await create_customer(session, organization=organization, email="dup@EXAMPLE.com")

    async def test_deleted_rows_do_not_block_email(
        self, session: AsyncSession, organization: Organization
    ) -> None:
        first = await create_customer(session, organization=organization, email="d@example.com")
        first.deleted_at = first.created_at
        await session.flush()
        await create_customer(session, organization=organization, email="d@example.com")

    async def test_external_id_unique(
        self, session: AsyncSession, organization: Organization
    ) -> None:
        await create_customer(session, organization=organization, external_id="x")
        async with session.begin_nested():
            with pytest.raises(IntegrityError):
                await create_customer(session, organization=organization, external_id="x")


class TestCreateRace:
    """A concurrent request may insert between our pre-check and our insert."""

    async def test_lost_email_race_is_422(
        self,
        session: AsyncSession,
        organization: Organization,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create_customer(session, organization=organization, email="race@example.com")

        async def not_taken(*_args: object) -> bool:
            return False

        monkeypatch.setattr(repository, "email_taken", not_taken)
        async with session.begin_nested():
            with pytest.raises(PolarRequestValidationError) as raised:
                await service.create_customer(
                    session,
                    principal_of(organization),
                    create=CustomerIndividualCreate(email="race@example.com"),
                )
        assert raised.value.detail == [
            {
                "type": "value_error",
                "loc": ("body", "email"),
                "msg": "A customer with this email address already exists.",
                "input": "race@example.com",
            }
        ]

    async def test_lost_external_id_race_is_422(
        self,
        session: AsyncSession,
        organization: Organization,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create_customer(session, organization=organization, external_id="ext")

        async def not_taken(*_args: object) -> bool:
            return False

        monkeypatch.setattr(repository, "external_id_taken", not_taken)
        async with session.begin_nested():
            with pytest.raises(PolarRequestValidationError) as raised:
                await service.create_customer(
                    session,
                    principal_of(organization),
                    create=CustomerIndividualCreate(email="new@example.com", external_id="ext"),
                )
        assert raised.value.detail[0]["loc"] == ("body", "external_id")
