"""POST /v1/products/"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.kit.time import utc_now
from polar_customers.models import Meter, Organization
from tests.factories import (
    bearer,
    create_meter,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.products.conftest import (
    FIXED,
    FREE,
    PRICE_KEYS,
    PRODUCT_KEYS,
    URL,
    CreateProduct,
    errors,
    metered,
)

SUPPORTED = "Supported amount types: fixed, free, metered_unit."


async def post(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=headers)


def recurring(**body: Any) -> dict[str, Any]:
    return {"name": "Pro plan", "recurring_interval": "month", "prices": [FIXED], **body}


class TestCreateProduct:
    async def test_recurring_with_a_fixed_price(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = recurring(description="The plan", metadata={"tier": "pro", "seats": 3})
        response = await post(client, headers, body)
        assert response.status_code == 201, response.text
        product = response.json()
        assert list(product) == PRODUCT_KEYS
        assert product["organization_id"] == str(organization.id)
        assert (product["name"], product["description"], product["metadata"]) == (
            "Pro plan",
            "The plan",
            {"tier": "pro", "seats": 3},
        )
        assert (product["recurring_interval"], product["is_recurring"]) == ("month", True)
        assert (product["is_archived"], product["modified_at"]) == (False, None)
        assert (product["trial_interval"], product["trial_interval_count"]) == (None, None)
        assert (product["benefits"], product["medias"], product["attached_custom_fields"]) == (
            [],
            [],
            [],
        )
        [price] = product["prices"]
        assert list(price) == [*PRICE_KEYS, "price_currency", "price_amount"]
        assert price["product_id"] == product["id"]
        assert (price["amount_type"], price["type"], price["recurring_interval"]) == (
            "fixed",
            "recurring",
            "month",
        )
        assert (price["price_currency"], price["price_amount"], price["is_archived"]) == (
            "usd",
            1000,
            False,
        )

    async def test_one_time_with_a_free_price(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, {"name": "E-book", "prices": [FREE]})
        assert response.status_code == 201, response.text
        product = response.json()
        assert (product["recurring_interval"], product["is_recurring"]) == (None, False)
        [price] = product["prices"]
        assert list(price) == PRICE_KEYS
        assert (price["amount_type"], price["type"], price["recurring_interval"]) == (
            "free",
            "one_time",
            None,
        )

    async def test_one_time_with_an_explicit_null_interval(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"name": "E-book", "prices": [FIXED], "recurring_interval": None}
        response = await post(client, headers, body)
        assert response.status_code == 201, response.text
        assert response.json()["prices"][0]["type"] == "one_time"

    async def test_static_and_metered_prices_static_first(
        self, client: httpx.AsyncClient, headers: dict[str, str], meter: Meter
    ) -> None:
        body = recurring(prices=[metered(meter, cap_amount=5000), FIXED])
        response = await post(client, headers, body)
        assert response.status_code == 201, response.text
        fixed, usage = response.json()["prices"]
        assert fixed["amount_type"] == "fixed"
        assert list(usage) == [
            *PRICE_KEYS,
            "price_currency",
            "unit_amount",
            "cap_amount",
            "meter_id",
            "meter",
        ]
        assert (usage["unit_amount"], usage["cap_amount"]) == ("0.500000000000", 5000)
        assert usage["meter_id"] == str(meter.id)
        assert usage["meter"] == {"id": str(meter.id), "name": "API calls"}

    @pytest.mark.parametrize(
        ("unit_amount", "rendered"),
        [
            (0.25, "0.250000000000"),
            ("0.000000000001", "0.000000000001"),
            (12, "12.000000000000"),
            ("99999.5", "99999.500000000000"),
        ],
    )
    async def test_unit_amount_as_number_or_string(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meter: Meter,
        unit_amount: Any,
        rendered: str,
    ) -> None:
        response = await post(client, headers, recurring(prices=[metered(meter, unit_amount)]))
        assert response.status_code == 201, response.text
        assert response.json()["prices"][0]["unit_amount"] == rendered

    async def test_metered_price_of_an_archived_meter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        meter: Meter,
    ) -> None:
        meter.archived_at = utc_now()
        await session.flush()
        response = await post(client, headers, recurring(prices=[FREE, metered(meter)]))
        assert response.status_code == 201, response.text

    async def test_trial(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        body = recurring(trial_interval="week", trial_interval_count=2)
        response = await post(client, headers, body)
        assert response.status_code == 201, response.text
        product = response.json()
        assert (product["trial_interval"], product["trial_interval_count"]) == ("week", 2)

    async def test_name_is_stripped_and_empty_description_is_null(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, recurring(name="  Pro  ", description=""))
        assert response.status_code == 201, response.text
        assert (response.json()["name"], response.json()["description"]) == ("Pro", None)

    async def test_empty_medias_and_custom_fields(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = recurring(medias=[], attached_custom_fields=[])
        response = await post(client, headers, body)
        assert response.status_code == 201, response.text
        assert (response.json()["medias"], response.json()["attached_custom_fields"]) == ([], [])

    async def test_created_products_are_listed_and_read(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        response = await client.get(f"{URL}{product['id']}", headers=headers)
        assert response.json() == product


class TestCreateValidation:
    @pytest.mark.parametrize("name", ["ab", "  ab  ", "x" * 65])
    async def test_invalid_name(
        self, client: httpx.AsyncClient, headers: dict[str, str], name: str
    ) -> None:
        response = await post(client, headers, recurring(name=name))
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "name"]
        assert response.status_code == 422
        assert error["type"] in ("string_too_short", "string_too_long")

    async def test_missing_fields(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await post(client, headers, {})
        assert errors(response, "RequestValidationError") == [
            (["body", "name"], "Field required"),
            (["body", "prices"], "Field required"),
        ]

    @pytest.mark.parametrize("amount", [49, 100_000_000, 0, -1])
    async def test_price_amount_out_of_bounds(
        self, client: httpx.AsyncClient, headers: dict[str, str], amount: int
    ) -> None:
        price = {"amount_type": "fixed", "price_amount": amount}
        response = await post(client, headers, recurring(prices=[price]))
        [(loc, _)] = errors(response, "RequestValidationError")
        assert loc == ["body", "prices", 0, "price_amount"]

    @pytest.mark.parametrize("amount", [50, 99_999_999])
    async def test_price_amount_bounds(
        self, client: httpx.AsyncClient, headers: dict[str, str], amount: int
    ) -> None:
        price = {"amount_type": "fixed", "price_amount": amount}
        response = await post(client, headers, recurring(prices=[price]))
        assert response.status_code == 201, response.text
        assert response.json()["prices"][0]["price_amount"] == amount

    @pytest.mark.parametrize(
        "price",
        [
            {"amount_type": "custom", "minimum_amount": 500},
            {"amount_type": "seat_based", "price_per_seat": 500},
            {"amount_type": "custom"},
        ],
    )
    async def test_unsupported_price_types(
        self, client: httpx.AsyncClient, headers: dict[str, str], price: dict[str, Any]
    ) -> None:
        response = await post(client, headers, recurring(prices=[FREE, price]))
        [(loc, msg)] = errors(response, "RequestValidationError")
        assert loc == ["body", "prices", 1, "amount_type"]
        assert SUPPORTED in msg

    @pytest.mark.parametrize(
        ("price", "kind"),
        [
            ({"amount_type": "tiered"}, "union_tag_invalid"),
            ({"price_amount": 1000}, "union_tag_not_found"),
            ({"amount_type": 3}, "union_tag_invalid"),
            ("fixed", "dict_type"),
        ],
    )
    async def test_unknown_price_types(
        self, client: httpx.AsyncClient, headers: dict[str, str], price: Any, kind: str
    ) -> None:
        response = await post(client, headers, recurring(prices=[price]))
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert (error["loc"], error["type"]) == (["body", "prices", 0], kind)

    async def test_no_price(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await post(client, headers, recurring(prices=[]))
        [(loc, _)] = errors(response, "RequestValidationError")
        assert loc == ["body", "prices"]

    async def test_too_many_prices(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, recurring(prices=[FREE] * 51))
        [(loc, _)] = errors(response, "RequestValidationError")
        assert loc == ["body", "prices"]

    async def test_two_static_prices(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, recurring(prices=[FIXED, FREE]))
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices"], "Only one static price (fixed or free) is allowed.")
        ]

    async def test_metered_price_on_a_one_time_product(
        self, client: httpx.AsyncClient, headers: dict[str, str], meter: Meter
    ) -> None:
        body = {"name": "E-book", "prices": [FIXED, metered(meter)]}
        response = await post(client, headers, body)
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices", 1], "Metered pricing is not supported on one-time products.")
        ]

    async def test_meter_of_another_organization_unknown_or_deleted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
        organization: Organization,
    ) -> None:
        foreign = await create_meter(session, organization=other_organization)
        deleted = await create_meter(session, organization=organization)
        deleted.deleted_at = utc_now()
        await session.flush()
        unknown = Meter(id=uuid.uuid4())
        prices = [FREE, metered(foreign), metered(deleted), metered(unknown)]
        response = await post(client, headers, recurring(prices=prices))
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices", index, "meter_id"], "Meter does not exist.") for index in (1, 2, 3)
        ]

    async def test_meter_used_twice(
        self, client: httpx.AsyncClient, headers: dict[str, str], meter: Meter
    ) -> None:
        prices = [metered(meter), metered(meter, "2")]
        response = await post(client, headers, recurring(prices=prices))
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices", 1, "meter_id"], "Meter is already used for another price.")
        ]

    @pytest.mark.parametrize(
        ("fields", "loc", "kind"),
        [
            ({"unit_amount": 0}, "unit_amount", "greater_than"),
            ({"unit_amount": "-1"}, "unit_amount", "greater_than"),
            ({"unit_amount": "0.0000000000001"}, "unit_amount", "decimal_max_places"),
            ({"unit_amount": "100000"}, "unit_amount", "decimal_whole_digits"),
            ({"unit_amount": "abc"}, "unit_amount", "decimal_parsing"),
            ({"unit_amount": "NaN"}, "unit_amount", "finite_number"),
            ({"cap_amount": -1}, "cap_amount", "greater_than_equal"),
            ({"cap_amount": 2**31}, "cap_amount", "less_than_equal"),
            ({"meter_id": "nope"}, "meter_id", "uuid_parsing"),
        ],
    )
    async def test_invalid_metered_price(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meter: Meter,
        fields: dict[str, Any],
        loc: str,
        kind: str,
    ) -> None:
        response = await post(client, headers, recurring(prices=[{**metered(meter), **fields}]))
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert (error["loc"], error["type"]) == (["body", "prices", 0, loc], kind)

    @pytest.mark.parametrize(
        ("currency", "message"),
        [("eur", "String should match pattern 'usd'"), ("usdt", "Only `usd` is supported.")],
    )
    async def test_currency(
        self, client: httpx.AsyncClient, headers: dict[str, str], currency: str, message: str
    ) -> None:
        price = {**FIXED, "price_currency": currency}
        response = await post(client, headers, recurring(prices=[price]))
        assert errors(response, "RequestValidationError") == [
            (["body", "prices", 0, "price_currency"], message)
        ]

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("medias", [str(uuid.uuid4())], "This server stores no files: medias must be empty."),
            (
                "attached_custom_fields",
                [{"custom_field_id": str(uuid.uuid4()), "required": True}],
                "This server stores no custom fields: attached_custom_fields must be empty.",
            ),
        ],
    )
    async def test_medias_and_custom_fields_are_not_stored(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        field: str,
        value: list[Any],
        message: str,
    ) -> None:
        response = await post(client, headers, recurring(**{field: value}))
        assert errors(response, "RequestValidationError") == [(["body", field], message)]

    async def test_incomplete_trial(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, recurring(trial_interval="day"))
        assert errors(response, "RequestValidationError") == [
            (["body"], "Both trial_interval and trial_interval_count must be set together.")
        ]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("recurring_interval", "monthly"),
            ("trial_interval_count", 1001),
            ("metadata", {"k": ""}),
            ("description", "x" * 10_001),
            ("name", "Pro\x00"),
        ],
    )
    async def test_invalid_field(
        self, client: httpx.AsyncClient, headers: dict[str, str], field: str, value: Any
    ) -> None:
        body = recurring(**{field: value})
        if field == "trial_interval_count":
            body["trial_interval"] = "day"
        response = await post(client, headers, body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", field]

    @pytest.mark.parametrize("body", [[], "product", None, 3])
    async def test_not_an_object(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: Any
    ) -> None:
        response = await post(client, headers, body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body"]


class TestCreateOrganization:
    async def test_organization_token_cannot_name_one(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        response = await post(client, headers, recurring(organization_id=str(organization.id)))
        assert errors(response, "PolarRequestValidationError") == [
            (
                ["body", "organization_id"],
                "Setting organization_id is disallowed when using an organization token.",
            )
        ]

    async def test_personal_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization])
        scopes = [Scope.products_write]
        headers = bearer(await create_personal_token(session, user=user, scopes=scopes))
        missing = await post(client, headers, recurring())
        assert errors(missing, "PolarRequestValidationError") == [
            (["body", "organization_id"], "organization_id is required.")
        ]
        foreign = await post(client, headers, recurring(organization_id=str(other_organization.id)))
        assert errors(foreign, "PolarRequestValidationError") == [
            (["body", "organization_id"], "Organization not found.")
        ]
        created = await post(client, headers, recurring(organization_id=str(organization.id)))
        assert created.status_code == 201, created.text
        assert created.json()["organization_id"] == str(organization.id)
        selected = await client.post(
            URL,
            json=recurring(),
            headers={**headers, "Polar-Organization": str(organization.id)},
        )
        assert selected.status_code == 201, selected.text
        assert selected.json()["organization_id"] == str(organization.id)


class TestCreateAuthorization:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, json=recurring())
        assert response.status_code == 401

    async def test_read_scope_only(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.products_read]
        )
        response = await post(client, bearer(token), recurring())
        assert response.status_code == 403
        assert 'scope="products:write web:write"' in response.headers["www-authenticate"]
