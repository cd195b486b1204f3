"""POST /v1/customers/"""

import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization
from tests.factories import (
    CUSTOMER_KEYS,
    bearer,
    create_customer,
    create_personal_token,
    create_user,
)

URL = "/v1/customers/"


def single_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    error: dict[str, Any] = detail[0]
    return error


class TestCreateCustomer:
    async def test_valid_full(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = {
            "email": "customer@example.com",
            "external_id": "usr_1337",
            "name": "John Doe",
            "billing_address": {"country": "us", "state": "CA", "line1": " 1 Main St "},
            "tax_id": ["911144442", "us_ein"],
            "metadata": {"plan": "pro", "seats": 3, "ratio": 1.0, "vip": True},
            "email_verified": True,
            "id": "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
        }
        response = await client.post(URL, json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"] == "application/json"
        customer = response.json()
        assert list(customer) == CUSTOMER_KEYS
        assert customer["id"] != body["id"]
        assert customer["modified_at"] is None
        assert customer["deleted_at"] is None
        assert customer["email_verified"] is False
        assert customer["organization_id"] == str(organization.id)
        assert customer["metadata"] == {"plan": "pro", "seats": 3, "ratio": 1.0, "vip": True}
        assert isinstance(customer["metadata"]["ratio"], float)
        assert customer["billing_address"] == {
            "line1": "1 Main St",
            "line2": None,
            "postal_code": None,
            "city": None,
            "state": "US-CA",
            "country": "US",
        }
        assert customer["tax_id"] == ["911144442", "us_ein"]
        assert customer["created_at"].endswith("Z")
        digest = hashlib.sha256(b"customer@example.com").hexdigest()
        assert customer["avatar_url"] == f"https://www.gravatar.com/avatar/{digest}?d=404"
        fetched = await client.get(f"/v1/customers/{customer['id']}", headers=headers)
        assert fetched.json() == customer

    async def test_compact_utf8_json(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, json={"email": "zoë@example.com", "name": "Zoë"}, headers=headers
        )
        assert response.status_code == 201
        assert '"name":"Zoë"' in response.content.decode()

    async def test_minimal_defaults(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(URL, json={"email": "min@example.com"}, headers=headers)
        assert response.status_code == 201
        customer = response.json()
        assert customer["metadata"] == {}
        assert customer["external_id"] is None
        assert customer["name"] is None
        assert customer["billing_address"] is None
        assert customer["tax_id"] is None

    @pytest.mark.parametrize(
        ("raw", "normalized"),
        [
            ("  John@Example.COM ", "John@example.com"),
            ("John Doe <A.B@EXAMPLE.COM>", "A.B@example.com"),
        ],
    )
    async def test_email_normalized(
        self, client: httpx.AsyncClient, headers: dict[str, str], raw: str, normalized: str
    ) -> None:
        response = await client.post(URL, json={"email": raw}, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["email"] == normalized

    async def test_empty_external_id_is_null(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        first = await client.post(
            URL, json={"email": "a@example.com", "external_id": ""}, headers=headers
        )
        second = await client.post(
            URL, json={"email": "b@example.com", "external_id": ""}, headers=headers
        )
        assert first.status_code == second.status_code == 201
        assert first.json()["external_id"] is None

    async def test_duplicate_email_case_insensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, email="Taken@example.com")
        response = await client.post(URL, json={"email": "taken@EXAMPLE.com"}, headers=headers)
        assert response.json() == {
            "error": "PolarRequestValidationError",
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body", "email"],
                    "msg": "A customer with this email address already exists.",
                    "input": "taken@example.com",
                }
            ],
        }
        assert response.status_code == 422

    async def test_duplicate_email_and_external_id(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=organization, email="x@example.com", external_id="ext"
        )
        response = await client.post(
            URL, json={"email": "x@example.com", "external_id": "ext"}, headers=headers
        )
        assert response.status_code == 422
        assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
            (["body", "email"], "A customer with this email address already exists."),
            (["body", "external_id"], "A customer with this external ID already exists."),
        ]

    async def test_external_id_case_sensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, external_id="ABC")
        response = await client.post(
            URL, json={"email": "c@example.com", "external_id": "abc"}, headers=headers
        )
        assert response.status_code == 201

    async def test_same_email_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=other_organization, email="s@example.com", external_id="e"
        )
        response = await client.post(
            URL, json={"email": "s@example.com", "external_id": "e"}, headers=headers
        )
        assert response.status_code == 201

    async def test_deleted_customer_email_reusable(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"email": "gone@example.com", "external_id": "gone"}
        created = (await client.post(URL, json=body, headers=headers)).json()
        deleted = await client.delete(f"/v1/customers/{created['id']}", headers=headers)
        assert deleted.status_code == 204
        again = await client.post(URL, json=body, headers=headers)
        assert again.status_code == 201, again.text

    async def test_organization_token_with_organization_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        response = await client.post(
            URL,
            json={"email": "o@example.com", "organization_id": str(organization.id)},
            headers=headers,
        )
        assert single_error(response) == {
            "type": "organization_token",
            "loc": ["body", "organization_id"],
            "msg": "Setting organization_id is disallowed when using an organization token.",
            "input": str(organization.id),
        }

    async def test_user_token_requires_organization_id(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user))
        response = await client.post(URL, json={"email": "u@example.com"}, headers=headers)
        assert single_error(response) == {
            "type": "missing",
            "loc": ["body", "organization_id"],
            "msg": "organization_id is required.",
            "input": None,
        }
        ok = await client.post(
            URL,
            json={"email": "u@example.com", "organization_id": str(organization.id)},
            headers=headers,
        )
        assert ok.status_code == 201
        assert ok.json()["organization_id"] == str(organization.id)

    async def test_user_token_foreign_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user))
        response = await client.post(
            URL,
            json={"email": "u@example.com", "organization_id": str(other_organization.id)},
            headers=headers,
        )
        assert single_error(response) == {
            "type": "value_error",
            "loc": ["body", "organization_id"],
            "msg": "Organization not found.",
            "input": str(other_organization.id),
        }


class TestCreateCustomerValidation:
    async def test_missing_body(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.post(URL, headers=headers)
        assert single_error(response) == {
            "type": "missing",
            "loc": ["body"],
            "msg": "Field required",
            "input": None,
        }
        assert response.json()["error"] == "RequestValidationError"

    async def test_missing_email(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.post(URL, json={"name": "x"}, headers=headers)
        assert single_error(response) == {
            "type": "missing",
            "loc": ["body", "email"],
            "msg": "Field required",
            "input": {"name": "x"},
        }

    async def test_malformed_json_before_auth(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            URL, content=b"{", headers={"Content-Type": "application/json"}
        )
        error = single_error(response)
        assert error["type"] == "json_invalid"
        assert error["loc"] == ["body", 1]
        assert error["msg"] == "JSON decode error"

    async def test_non_json_content_type(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, content=b"hello", headers={**headers, "Content-Type": "text/plain"}
        )
        assert single_error(response) == {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": "hello",
        }

    @pytest.mark.parametrize(
        ("email", "reason"),
        [
            ("plainaddress", "An email address must have an @-sign."),
            ("a@localhost", "The part after the @-sign is not valid. It should have a period."),
            (
                "a@example.test",
                "The part after the @-sign is a special-use or reserved name that cannot be "
                "used with email.",
            ),
        ],
    )
    async def test_invalid_email(
        self, client: httpx.AsyncClient, headers: dict[str, str], email: str, reason: str
    ) -> None:
        response = await client.post(URL, json={"email": email}, headers=headers)
        assert single_error(response) == {
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": f"value is not a valid email address: {reason}",
            "input": email,
            "ctx": {"reason": reason},
        }

    async def test_invalid_email_type(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(URL, json={"email": 5}, headers=headers)
        assert single_error(response) == {
            "type": "string_type",
            "loc": ["body", "email"],
            "msg": "Input should be a valid string",
            "input": 5,
        }

    @pytest.mark.parametrize(
        ("address", "message"),
        [
            ({"country": "US", "state": "XX"}, "Value error, Invalid US state"),
            ({"country": "US", "state": "ca"}, "Value error, Invalid US state"),
            ({"country": "US", "state": "PR"}, "Value error, Invalid US state"),
            ({"country": "CA", "state": "YT"}, "Value error, Invalid CA province"),
        ],
    )
    async def test_invalid_state(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        address: dict[str, str],
        message: str,
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "billing_address": address}, headers=headers
        )
        assert single_error(response) == {
            "type": "value_error",
            "loc": ["body", "billing_address"],
            "msg": message,
            "input": address,
            "ctx": {"error": {}},
        }

    @pytest.mark.parametrize(
        ("address", "state"),
        [
            ({"country": "CA", "state": "QC"}, "CA-QC"),
            ({"country": "US", "state": "US-DC"}, "US-DC"),
            ({"country": "FR", "state": "anything"}, "anything"),
            ({"country": "DE", "state": "   "}, None),
        ],
    )
    async def test_valid_state(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        address: dict[str, str],
        state: str | None,
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "billing_address": address}, headers=headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["billing_address"]["state"] == state

    async def test_missing_country(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "billing_address": {"city": "X"}}, headers=headers
        )
        assert single_error(response) == {
            "type": "missing",
            "loc": ["body", "billing_address", "country"],
            "msg": "Field required",
            "input": {"city": "X"},
        }

    @pytest.mark.parametrize("country", ["XX", "RU", 1, None])
    async def test_invalid_country(
        self, client: httpx.AsyncClient, headers: dict[str, str], country: object
    ) -> None:
        response = await client.post(
            URL,
            json={"email": "a@example.com", "billing_address": {"country": country}},
            headers=headers,
        )
        error = single_error(response)
        assert error["type"] == "enum"
        assert error["loc"] == ["body", "billing_address", "country"]
        assert error["msg"].startswith("Input should be 'AD', 'AE'")
        assert error["msg"].endswith("'ZM' or 'ZW'")
        assert "'RU'" not in error["msg"]
        assert error["msg"].count("'") == 244 * 2

    async def test_too_many_metadata_keys(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        metadata = {f"k{i}": i for i in range(51)}
        response = await client.post(
            URL, json={"email": "a@example.com", "metadata": metadata}, headers=headers
        )
        error = single_error(response)
        assert error["type"] == "too_long"
        assert error["loc"] == ["body", "metadata"]
        assert error["msg"] == "Dictionary should have at most 50 items after validation, not 51"

    async def test_invalid_metadata_value(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "metadata": {"v": ""}}, headers=headers
        )
        assert response.status_code == 422
        assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
            ("string_too_short", ["body", "metadata", "v", "constrained-str"]),
            ("int_parsing", ["body", "metadata", "v", "int"]),
            ("float_parsing", ["body", "metadata", "v", "float"]),
            ("bool_parsing", ["body", "metadata", "v", "bool"]),
        ]

    @pytest.mark.parametrize("value", [None, [1], {"a": 1}])
    async def test_metadata_value_wrong_type(
        self, client: httpx.AsyncClient, headers: dict[str, str], value: object
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "metadata": {"v": value}}, headers=headers
        )
        assert [e["type"] for e in response.json()["detail"]] == [
            "string_type",
            "int_type",
            "float_type",
            "bool_type",
        ]

    @pytest.mark.parametrize(
        ("key", "kind"), [("", "string_too_short"), ("k" * 41, "string_too_long")]
    )
    async def test_invalid_metadata_key(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: str, kind: str
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "metadata": {key: 1}}, headers=headers
        )
        error = single_error(response)
        assert error["type"] == kind
        assert error["loc"] == ["body", "metadata", key, "[key]"]

    async def test_metadata_null(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "metadata": None}, headers=headers
        )
        assert single_error(response)["type"] == "dict_type"

    @pytest.mark.parametrize(
        ("tax_id", "kind", "loc"),
        [
            ("123", "tuple_type", ["body", "tax_id"]),
            (["123"], "missing", ["body", "tax_id", 1]),
            (["1", "us_ein", "x"], "too_long", ["body", "tax_id"]),
            (["1", "xx_xx"], "enum", ["body", "tax_id", 1]),
            ([1, "us_ein"], "string_type", ["body", "tax_id", 0]),
        ],
    )
    async def test_invalid_tax_id(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        tax_id: object,
        kind: str,
        loc: list[object],
    ) -> None:
        response = await client.post(
            URL, json={"email": "a@example.com", "tax_id": tax_id}, headers=headers
        )
        error = single_error(response)
        assert (error["type"], error["loc"]) == (kind, loc)
