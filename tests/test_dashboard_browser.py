"""The supervisors' dashboard in a real browser (Debian Chromium via Playwright): a supervisor
sees the figures of their zones, the trend chart and the overdue steps; a patrol member is
refused and has no link to it."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import require_browser

require_browser()

from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import seed_dashboard  # noqa: E402
from tests.browser import live_server, login, until  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("dash-browser")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    codes = seed_dashboard(url)
    with live_server(create_app(url, secret="dashboard-secret-of-at-least-thirty-two-bytes")) as base:
        yield {"base": base, "codes": codes}


def test_supervisor_sees_the_figures_of_their_zones(server: dict, browser: Any) -> None:
    base, za, zb = server["base"], server["codes"]["ZA"][0], server["codes"]["ZB"][0]
    page = login(browser, base, "sue")
    page.click("a[href='/dashboard']")  # the navigation leads there
    page.wait_for_selector("table.indicators")
    assert page.url == f"{base}/dashboard"
    tables = page.locator("table.indicators")
    assert tables.count() == 2 and tables.first.is_visible()
    rate = page.locator("table.indicators").first.locator("tr", has_text="动态巡查发现率")
    assert rate.is_visible() and rate.locator("td.num").first.inner_text().strip()
    assert page.locator("tr", has_text="违法占用耕地比例").first.is_visible()
    overdue = page.locator("table.overdue")
    assert overdue.is_visible() and za in overdue.inner_text() and zb not in overdue.inner_text()
    if page.locator("img[alt='月度趋势']").count():
        until(page, "document.querySelector(\"img[alt='月度趋势']\").naturalWidth > 0")
    assert page.locator("ul.downloads a").count() == 6
    # the dashboard's own styles apply under the page's CSP (no inline <style>)
    assert page.evaluate("getComputedStyle(document.querySelector('.dash td')).borderTopStyle") == "solid"
    assert page.csp_violations == []


def test_patrol_member_is_refused(server: dict, browser: Any) -> None:
    base = server["base"]
    page = login(browser, base, "pat")
    assert page.locator("a[href='/dashboard']").count() == 0
    response = page.goto(f"{base}/dashboard")
    assert response is not None and response.status == 403
    assert page.locator("table.indicators").count() == 0
