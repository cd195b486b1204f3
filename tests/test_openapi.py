"""The OpenAPI document: a committed snapshot, and the operations Polar's clients call.

The snapshot (`tests/openapi.snapshot.json`) makes every change to the published document a
deliberate, reviewed change. Regenerate it with:

    POLAR_CUSTOMERS_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_openapi.py

The expected names are in `tests/openapi_expectations.py`; the component and schema shapes
are checked in `tests/test_openapi_schemas.py`.
"""

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.openapi_expectations import BILLING_OPERATIONS, POLAR_OPERATIONS

# Imported to register the `docs_client` and `document` fixtures in this module.
from tests.openapi_support import docs_client_fixture, document_fixture  # noqa: F401

SNAPSHOT = Path(__file__).resolve().parent / "openapi.snapshot.json"
UPDATE_SNAPSHOT = os.environ.get("POLAR_CUSTOMERS_UPDATE_SNAPSHOT") == "1"


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


def test_billing_operations_have_polar_ids_paths_and_methods(document: dict[str, Any]) -> None:
    operations = {
        (method, path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if not path.startswith("/v1/customers")
    }
    assert operations == BILLING_OPERATIONS


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))


def test_list_parameters_match_polar(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/v1/customers/"]["get"]["parameters"]
    assert [(parameter["name"], parameter["in"]) for parameter in parameters] == [
        ("organization_id", "query"),
        ("email", "query"),
        ("query", "query"),
        ("active", "query"),
        ("page", "query"),
        ("limit", "query"),
        ("sorting", "query"),
        ("metadata", "query"),
        *VERSIONING_HEADERS,
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
    for method, operation in document["paths"][path].items():
        anonymize = [("anonymize", "query", False)] if method == "delete" else []
        assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
            (name, "path", True),
            *anonymize,
            *((header, "header", False) for header, _ in VERSIONING_HEADERS),
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


VERSIONING_HEADERS = [("Polar-Version", "header"), ("Polar-Organization", "header")]


def test_every_operation_documents_the_version_headers(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            headers = [(p["name"], p["in"]) for p in operation["parameters"] if p["in"] == "header"]
            assert headers == VERSIONING_HEADERS, (method, path)
    [version] = [
        p
        for p in document["paths"]["/v1/customers/{id}"]["get"]["parameters"]
        if p["name"] == "Polar-Version"
    ]
    assert version["schema"]["enum"] == ["2026-04", "2026-10", "2027-01"]


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
