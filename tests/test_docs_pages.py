"""`/docs` and `/redoc` load their scripts, styles and favicon from this server only."""

import re

import httpx
import pytest
from fastapi import FastAPI

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)
ASSET_REFERENCE = re.compile(r"""(?:src|href|spec-url)="([^"]*)"|url: '([^']*)'""")
PUBLIC_HOSTS = ("cdn.jsdelivr.net", "fonts.googleapis.com", "fonts.gstatic.com", "tiangolo.com")
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


def references(html: str) -> list[str]:
    return [src or url for src, url in ASSET_REFERENCE.findall(html)]


def assert_offline(html: str) -> None:
    # SVG namespaces are names, not requests; anything else absolute would be fetched.
    absolute = [url for url in ABSOLUTE_URL.findall(html) if url != "http://www.w3.org/2000/svg"]
    assert absolute == []
    for host in PUBLIC_HOSTS:
        assert host not in html


def assert_policy(response: httpx.Response) -> None:
    """The browser may load nothing from another origin (ReDoc's sidebar logo, for one)."""
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
        sources = set(policy[directive].split())
        assert sources <= {"'self'", "'unsafe-inline'", "data:"}, directive
    assert set(policy["worker-src"].split()) == {"'self'", "blob:"}


async def assert_served(client: httpx.AsyncClient, url: str) -> None:
    assert url.startswith("/"), url
    response = await client.get(url)
    assert response.status_code == 200, url
    suffix = url[url.rindex(".") :]
    content_type = response.headers["content-type"].split(";")[0]
    assert content_type in CONTENT_TYPES[suffix], (url, content_type)
    assert response.content


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/docs",
            [
                "/docs-assets/swagger-ui.css",
                "/docs-assets/favicon.png",
                "/docs-assets/swagger-ui-bundle.js",
                "/openapi.json",
            ],
        ),
        (
            "/redoc",
            ["/docs-assets/favicon.png", "/openapi.json", "/docs-assets/redoc.standalone.js"],
        ),
    ],
)
async def test_page_loads_only_local_assets(
    client: httpx.AsyncClient, path: str, expected: list[str]
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_policy(response)
    assert_offline(response.text)
    assert references(response.text) == expected
    for url in expected:
        await assert_served(client, url)


async def test_swagger_ui_redirects_oauth2_locally(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in page.text
    assert '"validatorUrl": null' in page.text
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Swagger UI: OAuth2 Redirect</title>" in response.text
    assert_policy(response)
    assert_offline(response.text)


async def test_pages_honour_root_path(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/behind/proxy")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        docs = await client.get("/behind/proxy/docs")
        redoc = await client.get("/behind/proxy/redoc")
        asset = await client.get("/behind/proxy/docs-assets/swagger-ui.css")
    assert docs.status_code == redoc.status_code == asset.status_code == 200
    assert references(docs.text) == [
        "/behind/proxy/docs-assets/swagger-ui.css",
        "/behind/proxy/docs-assets/favicon.png",
        "/behind/proxy/docs-assets/swagger-ui-bundle.js",
        "/behind/proxy/openapi.json",
    ]
    assert "window.location.origin + '/behind/proxy/docs/oauth2-redirect'" in docs.text
    assert references(redoc.text) == [
        "/behind/proxy/docs-assets/favicon.png",
        "/behind/proxy/openapi.json",
        "/behind/proxy/docs-assets/redoc.standalone.js",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/docs-assets/",
        "/docs-assets/missing.js",
        "/docs-assets/../__init__.py",
        "/docs-assets/%2e%2e/__init__.py",
        "/docs-assets/swagger-ui.css%0A",
    ],
)
async def test_assets_outside_the_bundle_are_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_docs_pages_stay_out_of_the_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if not path.startswith("/v1/")]
