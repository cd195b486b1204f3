"""Interactive documentation (`/docs`, `/redoc`) served with no request beyond this server.

FastAPI's own pages load Swagger UI, ReDoc, a favicon and fonts from public hosts, so they are
blank on a machine without internet. The same pages are built here with FastAPI's helpers but
pointed at the copies of those assets that the pinned `fastapi-offline` package ships, mounted
under `/docs-assets`, and sent with a Content-Security-Policy that lets the browser load nothing
from any other origin: ReDoc's sidebar always shows a Redocly logo from its CDN, which the
policy refuses without a request (ReDoc then drops the image and keeps the text).
"""

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # The pages start Swagger UI with an inline script; both UIs add inline styles.
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        # ReDoc runs its search index in a worker made from a blob.
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

# No "Valid" badge fetched from validator.swagger.io, whatever the layout.
_SWAGGER_UI_PARAMETERS: dict[str, Any] = {"validatorUrl": None}


def assets_directory() -> Path:
    """The `static` directory of the installed `fastapi-offline` package."""
    directory = Path(str(files("fastapi_offline").joinpath("static")))
    missing = [name for name in ASSET_FILES if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"fastapi-offline ships no {', '.join(missing)} in {directory}")
    return directory


def _local_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def install_docs(app: FastAPI) -> None:
    """Add `/docs`, `/docs/oauth2-redirect` and `/redoc`, and the assets they load.

    The application must be created with `docs_url=None, redoc_url=None`.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    swagger_ui_parameters = {**_SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})}

    def root_path(request: Request) -> str:
        root: str = request.scope.get("root_path", "")
        return root.rstrip("/")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui_html(request: Request) -> HTMLResponse:
        root = root_path(request)
        return _local_only(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
                swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=swagger_ui_parameters,
            )
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return _local_only(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc_html(request: Request) -> HTMLResponse:
        root = root_path(request)
        return _local_only(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
