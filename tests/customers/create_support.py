"""Helpers shared by the POST /v1/customers/ test modules."""

from typing import Any

import httpx

URL = "/v1/customers/"


def single_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    error: dict[str, Any] = detail[0]
    return error
