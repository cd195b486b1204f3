"""POST /v1/customers/: rejected bodies, by field (email, billing address, metadata, tax ID)."""

import httpx
import pytest

from tests.customers.create_support import URL, single_error


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
