"""The OpenAPI document: a committed snapshot, and the names Polar's clients depend on.

The snapshot (`tests/openapi.snapshot.json`) makes every change to the published document a
deliberate, reviewed change. Regenerate it with:

    POLAR_CUSTOMERS_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_openapi.py

The expectations about Polar's names are copied from Polar's own document of the customer
operations (`polar-openapi-customers.json`, 2025-10-05), so this module needs no file outside
the repository.
"""

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from polar_customers.app import create_app
from polar_customers.config import Settings

SNAPSHOT = Path(__file__).resolve().parent / "openapi.snapshot.json"
UPDATE_SNAPSHOT = os.environ.get("POLAR_CUSTOMERS_UPDATE_SNAPSHOT") == "1"

# (method, path) -> operationId, as in Polar's document (the twelve customer operations).
POLAR_OPERATIONS: dict[tuple[str, str], str] = {
    ("get", "/v1/customers/"): "customers:list",
    ("post", "/v1/customers/"): "customers:create",
    ("get", "/v1/customers/export"): "customers:export",
    ("get", "/v1/customers/{id}"): "customers:get",
    ("patch", "/v1/customers/{id}"): "customers:update",
    ("delete", "/v1/customers/{id}"): "customers:delete",
    ("get", "/v1/customers/external/{external_id}"): "customers:get_external",
    ("patch", "/v1/customers/external/{external_id}"): "customers:update_external",
    ("delete", "/v1/customers/external/{external_id}"): "customers:delete_external",
    ("get", "/v1/customers/{id}/state"): "customers:get_state",
    ("get", "/v1/customers/external/{external_id}/state"): "customers:get_state_external",
    ("get", "/v1/customers/{id}/balance"): "customers:get_balance",
}

_ADDRESS_PROPERTIES = frozenset({"city", "country", "line1", "line2", "postal_code", "state"})
_CUSTOMER_INPUT_PROPERTIES = frozenset({"billing_address", "email", "metadata", "name", "tax_id"})
_CUSTOMER_PROPERTIES = frozenset(
    {
        "avatar_url",
        "billing_address",
        "created_at",
        "deleted_at",
        "email",
        "email_verified",
        "external_id",
        "id",
        "metadata",
        "modified_at",
        "name",
        "organization_id",
        "tax_id",
    }
)
_STATE_LISTS = frozenset({"active_subscriptions", "granted_benefits", "active_meters"})
# Without `price_id`: Polar sends it but leaves it out of its document.
_STATE_SUBSCRIPTION_PROPERTIES = frozenset(
    {
        "id",
        "created_at",
        "modified_at",
        "custom_field_data",
        "metadata",
        "status",
        "amount",
        "currency",
        "recurring_interval",
        "current_period_start",
        "current_period_end",
        "trial_start",
        "trial_end",
        "cancel_at_period_end",
        "canceled_at",
        "started_at",
        "ends_at",
        "product_id",
        "discount_id",
        "meters",
    }
)
_STATE_SUBSCRIPTION_METER_PROPERTIES = frozenset(
    {"created_at", "modified_at", "id", "consumed_units", "credited_units", "amount", "meter_id"}
)
_STATE_GRANT_PROPERTIES = frozenset(
    {
        "id",
        "created_at",
        "modified_at",
        "granted_at",
        "benefit_id",
        "benefit_type",
        "benefit_metadata",
        "properties",
    }
)
_STATE_METER_PROPERTIES = frozenset(
    {"id", "created_at", "modified_at", "meter_id", "consumed_units", "credited_units", "balance"}
)

# Component name -> its property names in Polar's document (empty for non-object schemas).
POLAR_COMPONENT_PROPERTIES: dict[str, frozenset[str]] = {
    "Customer": _CUSTOMER_PROPERTIES,
    "CustomerCreate": _CUSTOMER_INPUT_PROPERTIES | {"external_id", "organization_id"},
    "CustomerUpdate": _CUSTOMER_INPUT_PROPERTIES | {"external_id"},
    "CustomerUpdateExternalID": _CUSTOMER_INPUT_PROPERTIES,
    "ListResource_Customer_": frozenset({"items", "pagination"}),
    "Address": _ADDRESS_PROPERTIES,
    "AddressInput": _ADDRESS_PROPERTIES,
    "Pagination": frozenset({"max_page", "total_count"}),
    "ResourceNotFound": frozenset({"detail", "error"}),
    "HTTPValidationError": frozenset({"detail"}),
    "MetadataQuery": frozenset(),
    "CustomerSortProperty": frozenset(),
    "TaxIDFormat": frozenset(),
    "CustomerState": _CUSTOMER_PROPERTIES | _STATE_LISTS,
    "CustomerStateSubscription": _STATE_SUBSCRIPTION_PROPERTIES,
    "CustomerStateSubscriptionMeter": _STATE_SUBSCRIPTION_METER_PROPERTIES,
    "CustomerStateBenefitGrant": _STATE_GRANT_PROPERTIES,
    "CustomerStateMeter": _STATE_METER_PROPERTIES,
    "CustomerBalance": frozenset({"balance", "currency"}),
    "BenefitGrantDiscordProperties": frozenset(
        {"account_id", "guild_id", "role_id", "granted_account_id"}
    ),
    "BenefitGrantGitHubRepositoryProperties": frozenset(
        {
            "account_id",
            "repository_owner",
            "repository_name",
            "permission",
            "granted_account_id",
        }
    ),
    "BenefitGrantDownloadablesProperties": frozenset({"files"}),
    "BenefitGrantLicenseKeysProperties": frozenset({"license_key_id", "display_key"}),
    "BenefitGrantCustomProperties": frozenset(),
    "BenefitType": frozenset(),
    "SubscriptionRecurringInterval": frozenset(),
}

# Component name -> its `required` list in Polar's document (absent means none).
POLAR_COMPONENT_REQUIRED: dict[str, frozenset[str]] = {
    "Customer": POLAR_COMPONENT_PROPERTIES["Customer"],
    "CustomerCreate": frozenset({"email"}),
    "ListResource_Customer_": frozenset({"items", "pagination"}),
    "Address": frozenset({"country"}),
    "AddressInput": frozenset({"country"}),
    "Pagination": frozenset({"max_page", "total_count"}),
    "ResourceNotFound": frozenset({"detail", "error"}),
    "CustomerState": _CUSTOMER_PROPERTIES | _STATE_LISTS,
    # `custom_field_data` has a default: not required.
    "CustomerStateSubscription": _STATE_SUBSCRIPTION_PROPERTIES - {"custom_field_data"},
    "CustomerStateSubscriptionMeter": _STATE_SUBSCRIPTION_METER_PROPERTIES,
    "CustomerStateBenefitGrant": _STATE_GRANT_PROPERTIES,
    "CustomerStateMeter": _STATE_METER_PROPERTIES,
    "CustomerBalance": frozenset({"balance", "currency"}),
}

POLAR_SORT_PROPERTIES = ["created_at", "-created_at", "email", "-email", "name", "-name"]

POLAR_TAX_ID_FORMATS = [
    "ad_nrt",
    "ae_trn",
    "ar_cuit",
    "au_abn",
    "au_arn",
    "bg_uic",
    "bh_vat",
    "bo_tin",
    "br_cnpj",
    "br_cpf",
    "ca_bn",
    "ca_gst_hst",
    "ca_pst_bc",
    "ca_pst_mb",
    "ca_pst_sk",
    "ca_qst",
    "ch_uid",
    "ch_vat",
    "cl_tin",
    "cn_tin",
    "co_nit",
    "cr_tin",
    "de_stn",
    "do_rcn",
    "ec_ruc",
    "eg_tin",
    "es_cif",
    "eu_oss_vat",
    "eu_vat",
    "gb_vat",
    "ge_vat",
    "hk_br",
    "hr_oib",
    "hu_tin",
    "id_npwp",
    "il_vat",
    "in_gst",
    "is_vat",
    "jp_cn",
    "jp_rn",
    "jp_trn",
    "ke_pin",
    "kr_brn",
    "kz_bin",
    "li_uid",
    "mx_rfc",
    "my_frp",
    "my_itn",
    "my_sst",
    "ng_tin",
    "no_vat",
    "no_voec",
    "nz_gst",
    "om_vat",
    "pe_ruc",
    "ph_tin",
    "ro_tin",
    "rs_pib",
    "ru_inn",
    "ru_kpp",
    "sa_vat",
    "sg_gst",
    "sg_uen",
    "si_tin",
    "sv_nit",
    "th_vat",
    "tr_tin",
    "tw_vat",
    "ua_vat",
    "us_ein",
    "uy_ruc",
    "ve_rif",
    "vn_tin",
    "za_vat",
]

POLAR_METADATA_QUERY: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "integer"},
                    {"type": "boolean"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": {"type": "boolean"}},
                ]
            },
        },
        {"type": "null"},
    ],
    "title": "MetadataQuery",
}


@pytest.fixture(scope="module")
async def docs_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real application; the documents it serves never touch the database."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.database.dispose()


@pytest.fixture(scope="module")
async def document(docs_client: httpx.AsyncClient) -> dict[str, Any]:
    response = await docs_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow one local `$ref`, keeping the sibling keywords of the referring schema."""
    reference = schema.get("$ref")
    if reference is None:
        return schema
    name = reference.removeprefix("#/components/schemas/")
    siblings = {key: value for key, value in schema.items() if key != "$ref"}
    resolved: dict[str, Any] = {**_schemas(document)[name], **siblings}
    return resolved


def test_matches_snapshot(document: dict[str, Any]) -> None:
    if UPDATE_SNAPSHOT:
        SNAPSHOT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    assert SNAPSHOT.exists(), (
        f"no snapshot; create it with POLAR_CUSTOMERS_UPDATE_SNAPSHOT=1 ({SNAPSHOT})"
    )
    snapshot = json.loads(SNAPSHOT.read_text())
    assert document == snapshot, (
        "the OpenAPI document changed; review the difference and regenerate the snapshot with "
        "POLAR_CUSTOMERS_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_openapi.py"
    )


def test_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == "Polar Customers API"


def test_operations_have_polar_ids_paths_and_methods(document: dict[str, Any]) -> None:
    operations = {
        (method, path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/v1/customers")
    }
    assert operations == POLAR_OPERATIONS


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(POLAR_COMPONENT_PROPERTIES))
def test_component_has_polar_properties(document: dict[str, Any], name: str) -> None:
    schemas = _schemas(document)
    assert name in schemas, f"missing component {name}"
    assert set(schemas[name].get("properties", {})) == POLAR_COMPONENT_PROPERTIES[name]


@pytest.mark.parametrize("name", sorted(POLAR_COMPONENT_PROPERTIES))
def test_component_has_polar_required(document: dict[str, Any], name: str) -> None:
    required = set(_schemas(document)[name].get("required", []))
    assert required == POLAR_COMPONENT_REQUIRED.get(name, frozenset())


def test_sort_property_enum(document: dict[str, Any]) -> None:
    schema = _schemas(document)["CustomerSortProperty"]
    assert schema["type"] == "string"
    assert schema["enum"] == POLAR_SORT_PROPERTIES


def test_tax_id_format_enum(document: dict[str, Any]) -> None:
    schema = _schemas(document)["TaxIDFormat"]
    assert schema["type"] == "string"
    assert schema["enum"] == POLAR_TAX_ID_FORMATS


def test_benefit_type_enum(document: dict[str, Any]) -> None:
    assert _schemas(document)["BenefitType"]["enum"] == [
        "custom",
        "discord",
        "github_repository",
        "downloadables",
        "license_keys",
        "meter_credit",
    ]


def test_recurring_interval_enum(document: dict[str, Any]) -> None:
    schema = _schemas(document)["SubscriptionRecurringInterval"]
    assert schema["enum"] == ["day", "week", "month", "year"]


def test_grant_properties_union_in_polar_order(document: dict[str, Any]) -> None:
    properties = _schemas(document)["CustomerStateBenefitGrant"]["properties"]["properties"]
    assert [member["$ref"].rsplit("/", 1)[1] for member in properties["anyOf"]] == [
        "BenefitGrantDiscordProperties",
        "BenefitGrantGitHubRepositoryProperties",
        "BenefitGrantDownloadablesProperties",
        "BenefitGrantLicenseKeysProperties",
        "BenefitGrantCustomProperties",
    ]


def test_metadata_query_schema(document: dict[str, Any]) -> None:
    assert _schemas(document)["MetadataQuery"] == POLAR_METADATA_QUERY


@pytest.mark.parametrize("name", ["Address", "AddressInput"])
def test_address_country_is_an_alpha2_enum(document: dict[str, Any], name: str) -> None:
    country = _resolve(document, _schemas(document)[name]["properties"]["country"])
    assert country["type"] == "string"
    codes: list[str] = country["enum"]
    assert len(codes) > 240
    assert all(len(code) == 2 and code.isupper() for code in codes)
    assert {"US", "SE", "FR"} <= set(codes)


def test_list_parameters_match_polar(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/v1/customers/"]["get"]["parameters"]
    assert [(parameter["name"], parameter["in"]) for parameter in parameters] == [
        ("organization_id", "query"),
        ("email", "query"),
        ("query", "query"),
        ("page", "query"),
        ("limit", "query"),
        ("sorting", "query"),
        ("metadata", "query"),
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/customers/{id}", "id"),
        ("/v1/customers/external/{external_id}", "external_id"),
        ("/v1/customers/{id}/state", "id"),
        ("/v1/customers/external/{external_id}/state", "external_id"),
        ("/v1/customers/{id}/balance", "id"),
    ],
)
def test_path_parameters(document: dict[str, Any], path: str, name: str) -> None:
    for operation in document["paths"][path].values():
        assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
            (name, "path", True)
        ]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/v1/customers/", "201"),
        ("delete", "/v1/customers/{id}", "204"),
        ("delete", "/v1/customers/external/{external_id}", "204"),
    ],
)
def test_success_status_codes(
    document: dict[str, Any], method: str, path: str, status: str
) -> None:
    responses = document["paths"][path][method]["responses"]
    assert status in responses
    assert "200" not in responses


def test_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {name: (scheme["type"], scheme["scheme"]) for name, scheme in schemes.items()} == {
        "pat": ("http", "bearer"),
        "oat": ("http", "bearer"),
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"oat": []} in operation["security"], (method, path)


async def test_docs_page(docs_client: httpx.AsyncClient) -> None:
    response = await docs_client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "/openapi.json" in response.text
