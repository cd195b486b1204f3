"""`/docs` and `/redoc` in a real headless Chromium that may reach nothing but this machine.

Every request of the browser to a host other than the loopback is aborted and counted, so the
pages pass only if Swagger UI and ReDoc come from the server itself. Loads that the pages'
Content-Security-Policy refuses before any request (ReDoc's Redocly logo) are counted apart.
The browser is Debian's Chromium (`apt-get install chromium`), driven by Playwright;
Playwright's own browser downloads are never used.
"""

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Route,
    async_playwright,
    expect,
)

from tests.server.support import Tenant

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# ReDoc 2 always renders this image in its sidebar; the policy refuses it and ReDoc drops it.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# How Playwright (or Chromium's network log) names a load refused by the policy.
CSP_FAILURES = frozenset({"csp", "net::ERR_BLOCKED_BY_CSP"})
# Reports each load that the Content-Security-Policy refused, to the test.
REPORT_REFUSALS = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.reportRefusal(event.blockedURI);
});
"""
# Swagger UI renders in a few seconds on a 2-core machine; leave plenty of room.
RENDER_TIMEOUT_MS = 60_000
ACTION_TIMEOUT_MS = 30_000
EVENT_TIMEOUT = 10.0

OPERATION_SUMMARIES = [
    "List Customers",
    "Create Customer",
    "Export Customers",
    "Get Customer",
    "Update Customer",
    "Delete Customer",
    "Get Customer by External ID",
    "Update Customer by External ID",
    "Delete Customer by External ID",
    "Get Customer State",
    "Get Customer State by External ID",
    "Get Customer Balance",
]


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip when the browser is missing, except on CI (`CI=true`), which installs it."""
    if path.exists():
        return
    reason = f"{path} is absent: install Debian's browser with `apt-get install chromium`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, and .ci/run installs it, so this is a failure)")
    pytest.skip(reason)


@dataclass
class Traffic:
    """What the pages of a browser context asked for, and what was refused.

    `blocked`: requests beyond the loopback, aborted by the route guard (must stay empty).
    `refused`: loads that the Content-Security-Policy refused in the page, before any request;
    Playwright still reports them as requests, failed with reason `csp`.
    """

    requested: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_request(self, request: Request) -> None:
        self.requested.append(request.url)
        self.changed.set()

    def on_request_failed(self, request: Request) -> None:
        self.failed[request.url] = request.failure or ""
        self.changed.set()

    def on_refusal(self, url: str) -> None:
        self.refused.append(url)
        self.changed.set()

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for browser events that may arrive after the page has settled."""
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                while not condition():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            pytest.fail(f"no {what} within {EVENT_TIMEOUT}s")

    def on_console(self, message: ConsoleMessage) -> None:
        # Chromium also logs each refusal of the policy, counted in `refused`.
        if message.type == "error" and "Content Security Policy" not in message.text:
            self.console_errors.append(message.text)

    def assert_local_only(self, *, refused: Collection[str] = ()) -> None:
        assert self.blocked == [], f"requests beyond the loopback were attempted: {self.blocked}"
        assert set(self.refused) <= set(refused), f"loads refused by the policy: {self.refused}"
        assert self.console_errors == []
        assert self.page_errors == []
        for url in self.requested:
            if not is_loopback(url):
                assert url in self.refused, url
                assert self.failed.get(url) in CSP_FAILURES, (url, self.failed.get(url))


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=RENDER_TIMEOUT_MS
        )
        yield browser
        await browser.close()


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
async def page(browser: Browser, traffic: Traffic) -> AsyncIterator[Page]:
    """A page of a fresh context whose requests beyond the loopback are aborted."""
    context: BrowserContext = await browser.new_context(service_workers="block")
    context.set_default_timeout(ACTION_TIMEOUT_MS)

    context.on("request", traffic.on_request)
    context.on("requestfailed", traffic.on_request_failed)
    await context.expose_function("reportRefusal", traffic.on_refusal)
    await context.add_init_script(REPORT_REFUSALS)
    page = await context.new_page()

    async def guard(route: Route) -> None:
        if is_loopback(route.request.url):
            await route.continue_()
        else:
            traffic.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", guard)
    page.on("console", traffic.on_console)
    page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
    yield page
    await context.close()


def operation(page: Page, summary: str) -> Locator:
    description = page.locator(".opblock-summary-description").get_by_text(summary, exact=True)
    return page.locator(".opblock").filter(has=description)


async def test_swagger_ui_lists_and_runs_operations_offline(
    page: Page, traffic: Traffic, live_server: str, tenant: Tenant
) -> None:
    # Swagger UI lists an operation once under each of its tags.
    async with httpx.AsyncClient() as http:
        document = (await http.get(f"{live_server}/openapi.json")).json()
    operations = [operation for item in document["paths"].values() for operation in item.values()]
    started = time.monotonic()
    await page.goto(f"{live_server}/docs", timeout=RENDER_TIMEOUT_MS)
    assert traffic.blocked == [], f"requests beyond the loopback were attempted: {traffic.blocked}"
    await expect(page.locator(".opblock")).to_have_count(
        sum(len(operation["tags"]) for operation in operations), timeout=RENDER_TIMEOUT_MS
    )
    rendered = time.monotonic() - started
    summaries = set(await page.locator(".opblock-summary-description").all_inner_texts())
    assert summaries == {operation["summary"] for operation in operations}
    assert summaries >= set(OPERATION_SUMMARIES)  # the twelve customer operations
    assert await page.title() == "Polar Customers API - Swagger UI"

    # Authorize with the organization token, in the `oat` scheme.
    await page.locator(".scheme-container button.authorize").click()
    oat = page.locator(".auth-container").filter(
        has=page.locator("h4 > code").get_by_text("oat", exact=True)
    )
    await oat.locator("input#auth-bearer-value").fill(tenant.token)
    await oat.get_by_role("button", name="Apply credentials").click()
    await expect(oat.get_by_role("button", name="Remove authorization")).to_be_visible()
    await oat.get_by_role("button", name="Close").click()
    await expect(page.locator(".dialog-ux")).to_have_count(0)

    # Try it out: List Customers, executed by the page against the server.
    list_customers = operation(page, "List Customers")
    await list_customers.locator(".opblock-summary").click()
    await list_customers.get_by_role("button", name="Try it out").click()
    async with page.expect_response(
        lambda response: urlsplit(response.url).path == "/v1/customers/",
        timeout=ACTION_TIMEOUT_MS,
    ) as response_info:
        await list_customers.get_by_role("button", name="Execute").click()
    response = await response_info.value
    assert response.status == 200
    assert await response.request.header_value("authorization") == f"Bearer {tenant.token}"
    body = await response.json()
    assert body["items"] == []
    assert body["pagination"] == {"total_count": 0, "max_page": 0}

    live = list_customers.locator(".live-responses-table tr.response .response-col_status")
    await expect(live).to_have_text("200", timeout=ACTION_TIMEOUT_MS)
    curl = await list_customers.locator(".curl-command").inner_text()
    assert f"Authorization: Bearer {tenant.token}" in curl
    assert f"{live_server}/v1/customers/" in curl

    traffic.assert_local_only()
    assert f"{live_server}/docs-assets/swagger-ui-bundle.js" in traffic.requested
    assert f"{live_server}/docs-assets/swagger-ui.css" in traffic.requested
    print(f"Swagger UI rendered in {rendered:.2f}s, whole test {time.monotonic() - started:.2f}s")


async def test_redoc_renders_offline(page: Page, traffic: Traffic, live_server: str) -> None:
    started = time.monotonic()
    await page.goto(f"{live_server}/redoc", timeout=RENDER_TIMEOUT_MS)
    assert traffic.blocked == [], f"requests beyond the loopback were attempted: {traffic.blocked}"
    title = page.locator("h1").filter(has_text="Polar Customers API")
    await expect(title).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    await expect(page.get_by_role("heading", name="List Customers")).to_be_visible()
    assert await page.title() == "Polar Customers API - ReDoc"
    # The logo was refused without a request, and ReDoc fell back to its text.
    await expect(page.get_by_role("link", name="API docs by Redocly")).to_be_visible()
    await expect(page.locator(f'img[src="{REDOCLY_LOGO}"]')).to_have_count(0)

    await traffic.wait_for(lambda: REDOCLY_LOGO in traffic.refused, "refusal of the logo")
    await traffic.wait_for(lambda: REDOCLY_LOGO in traffic.failed, "failure of the logo's request")
    traffic.assert_local_only(refused=[REDOCLY_LOGO])
    assert f"{live_server}/docs-assets/redoc.standalone.js" in traffic.requested
    print(f"ReDoc rendered in {time.monotonic() - started:.2f}s")


@pytest.mark.parametrize("ci", ["true", None])
def test_missing_chromium_skips_except_on_ci(
    ci: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if ci == "true" else pytest.skip.Exception
    with pytest.raises(expected, match=re.escape(f"{tmp_path / 'chromium'} is absent")):
        require_chromium(tmp_path / "chromium")
