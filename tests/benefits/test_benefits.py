"""`/v1/benefits`: create, get, update and delete each supported type; the refused types;
validation; tenancy and scopes."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Benefit as BenefitModel
from polar_customers.models import Meter, Organization, ProductBenefit
from tests.benefits.conftest import SCOPES, CreateBenefit
from tests.factories import (
    bearer,
    create_benefit_with_properties,
    create_meter,
    create_organization,
    create_organization_token,
    create_personal_token,
    create_product,
    create_user,
)

BENEFIT_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "type",
    "description",
    "selectable",
    "deletable",
    "organization_id",
    "metadata",
    "properties",
]
SUPPORTED = "Supported types: custom, license_keys, meter_credit."
LICENSE_PROPERTIES = {
    "prefix": "ACME",
    "expires": {"ttl": 1, "timeframe": "year"},
    "activations": {"limit": 5, "enable_customer_admin": True},
    "limit_usage": 100,
}
ID = "0c5ed3fb-3e1f-4f0c-9d0a-7c3f0d3e6b11"


def url(benefit: dict[str, Any] | str) -> str:
    return f"/v1/benefits/{benefit if isinstance(benefit, str) else benefit['id']}"


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


class TestCreate:
    async def test_custom(self, create_benefit: CreateBenefit, organization: Organization) -> None:
        benefit = await create_benefit(
            description="Priority support",
            properties={"note": "Write to vip@acme.dev"},
            metadata={"tier": "gold", "seats": 3},
        )
        assert list(benefit) == BENEFIT_KEYS
        assert benefit["type"] == "custom"
        assert benefit["description"] == "Priority support"
        assert benefit["properties"] == {"note": "Write to vip@acme.dev"}
        assert benefit["metadata"] == {"tier": "gold", "seats": 3}
        assert benefit["organization_id"] == str(organization.id)
        assert (benefit["selectable"], benefit["deletable"], benefit["modified_at"]) == (
            True,
            True,
            None,
        )

    async def test_custom_without_note(self, create_benefit: CreateBenefit) -> None:
        benefit = await create_benefit(properties={})
        assert benefit["properties"] == {"note": None}
        assert benefit["metadata"] == {}

    async def test_license_keys(self, create_benefit: CreateBenefit) -> None:
        properties = {**LICENSE_PROPERTIES, "prefix": "  acme  "}
        benefit = await create_benefit(type="license_keys", properties=properties)
        assert benefit["type"] == "license_keys"
        assert benefit["properties"] == {**LICENSE_PROPERTIES, "prefix": "acme"}

    async def test_license_keys_without_settings(self, create_benefit: CreateBenefit) -> None:
        benefit = await create_benefit(type="license_keys", properties={"prefix": " "})
        assert benefit["properties"] == {
            "prefix": None,
            "expires": None,
            "activations": None,
            "limit_usage": None,
        }

    async def test_meter_credit(self, create_benefit: CreateBenefit, meter: Meter) -> None:
        properties = {"units": 1000, "rollover": True, "meter_id": str(meter.id)}
        benefit = await create_benefit(type="meter_credit", properties=properties)
        assert benefit["type"] == "meter_credit"
        assert benefit["properties"] == properties

    async def test_meter_credit_on_archived_meter(
        self, create_benefit: CreateBenefit, session: AsyncSession, meter: Meter
    ) -> None:
        meter.archived_at = meter.created_at
        await session.flush()
        properties = {"units": 1, "rollover": False, "meter_id": str(meter.id)}
        assert (await create_benefit(type="meter_credit", properties=properties))["id"]

    @pytest.mark.parametrize("whose", ["unknown", "other organization", "deleted"])
    async def test_meter_credit_needs_a_live_meter_of_the_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        meter: Meter,
        whose: str,
    ) -> None:
        meter_id = str(uuid.uuid4())
        if whose == "other organization":
            other = await create_organization(session, name="Other")
            meter_id = str((await create_meter(session, organization=other)).id)
        elif whose == "deleted":
            meter.deleted_at = meter.created_at
            await session.flush()
            meter_id = str(meter.id)
        body = {
            "type": "meter_credit",
            "description": "Credits",
            "properties": {"units": 10, "rollover": False, "meter_id": meter_id},
        }
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        assert errors(response) == [
            {
                "type": "value_error",
                "loc": ["body", "properties", "meter_id"],
                "msg": "This meter does not exist.",
                "input": meter_id,
            }
        ]
        assert response.json()["error"] == "PolarRequestValidationError"

    @pytest.mark.parametrize("benefit_type", ["discord", "github_repository", "downloadables"])
    async def test_refused_types(
        self, client: httpx.AsyncClient, headers: dict[str, str], benefit_type: str
    ) -> None:
        # Whatever else the body holds (here: no description, bad properties), one error.
        body = {"type": benefit_type, "properties": {"guild_token": 3}}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        assert errors(response) == [
            {
                "type": "value_error",
                "loc": ["body", "type"],
                "msg": f"Benefit type '{benefit_type}' is not supported by this server. "
                + SUPPORTED,
                "input": benefit_type,
            }
        ]

    async def test_unknown_type(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        body = {"type": "feature_flag", "description": "Flag", "properties": {}}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        assert (error["type"], error["loc"]) == ("union_tag_invalid", ["body"])
        assert error["msg"] == (
            "Input tag 'feature_flag' found using 'type' does not match any of the expected "
            "tags: 'custom', 'license_keys', 'meter_credit'"
        )

    @pytest.mark.parametrize("body", [{"description": "No type"}, [], "custom", None])
    async def test_no_type(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: Any
    ) -> None:
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        assert error["loc"] == ["body"]

    @pytest.mark.parametrize(
        ("description", "kind"),
        [("ab", "string_too_short"), ("x" * 43, "string_too_long"), (None, "string_type")],
    )
    async def test_invalid_description(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        description: str | None,
        kind: str,
    ) -> None:
        body: dict[str, Any] = {"type": "custom", "description": description, "properties": {}}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        # The tag of the body's type is in the location, as in Polar's errors.
        assert (error["type"], error["loc"]) == (kind, ["body", "custom", "description"])

    async def test_unstorable_description(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"type": "custom", "description": "nul\x00byte", "properties": {}}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        assert errors(response)[0]["loc"] == ["body", "custom", "description"]

    async def test_missing_properties(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"type": "custom", "description": "Support"}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        assert (error["type"], error["loc"]) == ("missing", ["body", "custom", "properties"])

    async def test_note_too_long(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        body = {"type": "custom", "description": "Support", "properties": {"note": "n" * 10_001}}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        assert error["loc"] == ["body", "custom", "properties", "note"]

    @pytest.mark.parametrize(
        ("properties", "loc"),
        [
            ({"activations": {"limit": 51, "enable_customer_admin": False}}, "activations.limit"),
            ({"activations": {"limit": 0, "enable_customer_admin": False}}, "activations.limit"),
            ({"activations": {"limit": 1}}, "activations.enable_customer_admin"),
            ({"limit_usage": 0}, "limit_usage"),
            ({"limit_usage": 2**31}, "limit_usage"),
            ({"expires": {"ttl": 0, "timeframe": "day"}}, "expires.ttl"),
            ({"expires": {"ttl": 1, "timeframe": "week"}}, "expires.timeframe"),
            ({"expires": {"ttl": 458, "timeframe": "year"}}, "expires"),
            ({"expires": {"ttl": 36501, "timeframe": "day"}}, "expires"),
            ({"expires": {"ttl": 10**30, "timeframe": "month"}}, "expires"),
            ({"prefix": "P" * 65}, "prefix"),
        ],
    )
    async def test_invalid_license_keys_properties(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        properties: dict[str, Any],
        loc: str,
    ) -> None:
        body = {"type": "license_keys", "description": "Keys", "properties": properties}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        [error] = errors(response)
        assert error["loc"] == ["body", "license_keys", "properties", *loc.split(".")]

    async def test_ttl_beyond_its_timeframe(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        properties = {"expires": {"ttl": 1201, "timeframe": "month"}}
        body = {"type": "license_keys", "description": "Keys", "properties": properties}
        [error] = errors(await client.post("/v1/benefits/", json=body, headers=headers))
        assert error["msg"] == (
            "Value error, ttl value 1201 exceeds the maximum of 1200 for timeframe 'month'."
        )

    @pytest.mark.parametrize(
        ("properties", "field"),
        [
            ({"units": 0, "rollover": False}, "units"),
            ({"units": 2**31, "rollover": False}, "units"),
            ({"units": 1.5, "rollover": False}, "units"),
            ({"units": 1, "rollover": "maybe"}, "rollover"),
            ({"units": 1, "rollover": False, "meter_id": "not-a-uuid"}, "meter_id"),
        ],
    )
    async def test_invalid_meter_credit_properties(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meter: Meter,
        properties: dict[str, Any],
        field: str,
    ) -> None:
        body = {
            "type": "meter_credit",
            "description": "Credits",
            "properties": {"meter_id": str(meter.id), **properties},
        }
        [error] = errors(await client.post("/v1/benefits/", json=body, headers=headers))
        assert error["loc"] == ["body", "meter_credit", "properties", field]

    async def test_organization_token_cannot_name_an_organization(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = {
            "type": "custom",
            "description": "Support",
            "properties": {},
            "organization_id": str(organization.id),
        }
        [error] = errors(await client.post("/v1/benefits/", json=body, headers=headers))
        assert (error["type"], error["loc"]) == ("organization_token", ["body", "organization_id"])

    async def test_personal_token_names_one_of_its_organizations(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        other = await create_organization(session, name="Not theirs")
        user = await create_user(session, member_of=[organization])
        token = bearer(await create_personal_token(session, user=user, scopes=SCOPES))
        body: dict[str, Any] = {"type": "custom", "description": "Support", "properties": {}}
        [error] = errors(await client.post("/v1/benefits/", json=body, headers=token))
        assert (error["type"], error["loc"]) == ("missing", ["body", "organization_id"])
        body["organization_id"] = str(other.id)
        [error] = errors(await client.post("/v1/benefits/", json=body, headers=token))
        assert error["msg"] == "Organization not found."
        body["organization_id"] = str(organization.id)
        response = await client.post("/v1/benefits/", json=body, headers=token)
        assert response.status_code == 201
        assert response.json()["organization_id"] == str(organization.id)


class TestGet:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit(type="license_keys", properties=LICENSE_PROPERTIES)
        response = await client.get(url(created), headers=headers)
        assert response.status_code == 200
        assert response.json() == created

    async def test_written_by_hand_without_properties(
        self, client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession,
        organization: Organization,
    ) -> None:  # fmt: skip
        benefit = BenefitModel(
            organization_id=organization.id, type="license_keys", description="Keys"
        )
        session.add(benefit)
        await session.flush()
        response = await client.get(url(str(benefit.id)), headers=headers)
        assert response.json()["properties"]["prefix"] is None

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(url(ID), headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}

    async def test_invalid_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(url("nope"), headers=headers)
        assert errors(response)[0]["loc"] == ["path", "id"]

    async def test_other_organization(
        self, client: httpx.AsyncClient, session: AsyncSession, create_benefit: CreateBenefit
    ) -> None:
        benefit = await create_benefit()
        other = await create_organization(session, name="Other")
        token = bearer(await create_organization_token(session, organization=other, scopes=SCOPES))
        for method in ("GET", "PATCH", "DELETE"):
            body = {"type": "custom"} if method == "PATCH" else None
            response = await client.request(method, url(benefit), json=body, headers=token)
            assert response.status_code == 404, method
            assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
        response = await client.get(url(benefit) + "/grants", headers=token)
        assert response.status_code == 404


class TestUpdate:
    async def test_fields_present(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit(properties={"note": "old"}, metadata={"a": 1})
        body = {"type": "custom", "description": "New words", "properties": {"note": None}}
        response = await client.patch(url(created), json=body, headers=headers)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert updated["description"] == "New words"
        assert updated["properties"] == {"note": None}
        assert updated["metadata"] == {"a": 1}
        assert updated["modified_at"] is not None
        assert (await client.get(url(created), headers=headers)).json() == updated

    async def test_absent_and_null_fields_are_kept(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit(properties={"note": "kept"})
        body = {"type": "custom", "description": None, "properties": None}
        updated = (await client.patch(url(created), json=body, headers=headers)).json()
        assert (updated["description"], updated["properties"]) == ("Support", {"note": "kept"})
        updated = await client.patch(url(created), json={"type": "custom"}, headers=headers)
        assert updated.json()["modified_at"] is None

    async def test_metadata_replaced(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit(metadata={"a": 1})
        body = {"type": "custom", "metadata": {"b": "two"}}
        updated = (await client.patch(url(created), json=body, headers=headers)).json()
        assert updated["metadata"] == {"b": "two"}

    async def test_license_keys_properties(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit(type="license_keys", properties=LICENSE_PROPERTIES)
        body = {"type": "license_keys", "properties": {"limit_usage": 7}}
        updated = (await client.patch(url(created), json=body, headers=headers)).json()
        assert updated["properties"] == {
            "prefix": None,
            "expires": None,
            "activations": None,
            "limit_usage": 7,
        }

    async def test_meter_credit_properties(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_benefit: CreateBenefit,
        session: AsyncSession,
        organization: Organization,
        meter: Meter,
    ) -> None:
        created = await create_benefit(
            type="meter_credit",
            properties={"units": 1, "rollover": False, "meter_id": str(meter.id)},
        )
        other_meter = await create_meter(session, organization=organization, name="Other")
        properties = {"units": 5, "rollover": True, "meter_id": str(other_meter.id)}
        body = {"type": "meter_credit", "properties": properties}
        updated = (await client.patch(url(created), json=body, headers=headers)).json()
        assert updated["properties"] == properties
        body["properties"] = {**properties, "meter_id": ID}
        [error] = errors(await client.patch(url(created), json=body, headers=headers))
        assert error["loc"] == ["body", "properties", "meter_id"]

    async def test_type_cannot_change(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit()
        body = {"type": "license_keys", "description": "Changed"}
        assert errors(await client.patch(url(created), json=body, headers=headers)) == [
            {
                "type": "value_error",
                "loc": ["body", "type"],
                "msg": "Benefit type cannot be changed.",
                "input": "license_keys",
            }
        ]
        assert (await client.get(url(created), headers=headers)).json() == created

    async def test_refused_type(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        # Even a benefit of that type (written by hand: the API creates none) is not updated.
        benefit = await create_benefit_with_properties(
            session, organization=organization, type="discord", properties={"role_id": "1"}
        )
        body = {"type": "discord", "description": "Changed"}
        [error] = errors(await client.patch(url(str(benefit.id)), json=body, headers=headers))
        assert (error["loc"], error["msg"]) == (
            ["body", "type"],
            "Benefit type 'discord' is not supported by this server. " + SUPPORTED,
        )
        shown = (await client.get(url(str(benefit.id)), headers=headers)).json()
        assert (shown["type"], shown["properties"]) == ("discord", {"role_id": "1"})

    async def test_invalid_body(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit()
        body = {"type": "custom", "description": "no", "metadata": None}
        detail = errors(await client.patch(url(created), json=body, headers=headers))
        assert [error["loc"] for error in detail] == [
            ["body", "custom", "metadata"],
            ["body", "custom", "description"],
        ]

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.patch(url(ID), json={"type": "custom"}, headers=headers)
        assert response.status_code == 404


class TestDelete:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_benefit: CreateBenefit
    ) -> None:
        created = await create_benefit()
        response = await client.delete(url(created), headers=headers)
        assert (response.status_code, response.content) == (204, b"")
        assert (await client.get(url(created), headers=headers)).status_code == 404
        assert (await client.delete(url(created), headers=headers)).status_code == 404
        listed = (await client.get("/v1/benefits/", headers=headers)).json()
        assert listed["items"] == []

    async def test_leaves_its_products(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_benefit: CreateBenefit,
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        created = await create_benefit()
        product = await create_product(session, organization=organization)
        session.add(
            ProductBenefit(
                organization_id=organization.id,
                product_id=product.id,
                benefit_id=uuid.UUID(created["id"]),
                position=0,
            )
        )
        await session.flush()
        assert (await client.delete(url(created), headers=headers)).status_code == 204
        statement = select(ProductBenefit).where(
            ProductBenefit.benefit_id == uuid.UUID(created["id"])
        )
        assert (await session.scalars(statement)).all() == []


class TestScopes:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        for method, path in [
            ("GET", "/v1/benefits/"),
            ("POST", "/v1/benefits/"),
            ("GET", url(ID)),
            ("PATCH", url(ID)),
            ("DELETE", url(ID)),
            ("GET", url(ID) + "/grants"),
            ("GET", "/v1/benefit-grants/"),
        ]:
            response = await client.request(method, path)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == 'Bearer realm="polar"'

    async def test_without_benefit_scopes(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = bearer(await create_organization_token(session, organization=organization))
        for path in ("/v1/benefits/", url(ID), url(ID) + "/grants", "/v1/benefit-grants/"):
            response = await client.get(path, headers=token)
            assert response.status_code == 403, path
            assert (
                'scope="benefits:read benefits:write web:read web:write"'
                in (response.headers["www-authenticate"])
            )

    async def test_read_scope_cannot_write(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        create_benefit: CreateBenefit,
    ) -> None:
        created = await create_benefit()
        token = bearer(
            await create_organization_token(
                session, organization=organization, scopes=[Scope.benefits_read]
            )
        )
        assert (await client.get(url(created), headers=token)).status_code == 200
        for method, path in [("POST", "/v1/benefits/"), ("PATCH", url(created)),
                             ("DELETE", url(created))]:  # fmt: skip
            body = {"type": "custom"} if method != "DELETE" else None
            response = await client.request(method, path, json=body, headers=token)
            assert response.status_code == 403, method
            assert 'scope="benefits:write web:write"' in response.headers["www-authenticate"]
