"""The OpenAPI components: the properties, required lists and enums of Polar's schemas."""

from typing import Any

import pytest

from tests.openapi_expectations import (
    POLAR_COMPONENT_PROPERTIES,
    POLAR_COMPONENT_REQUIRED,
    POLAR_METADATA_QUERY,
    POLAR_SORT_PROPERTIES,
    POLAR_TAX_ID_FORMATS,
)

# Imported to register the `docs_client` and `document` fixtures in this module.
from tests.openapi_support import docs_client_fixture, document_fixture  # noqa: F401


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
