"""The inspection pages in a real browser (Debian Chromium via Playwright): the batch page by
zone, the 举证 form on the lead page (refused with what is missing, then saved), the dossier."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.browser import require_browser

require_browser()

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.inspection import BatchSpec  # noqa: E402
from pipeline.ledger.testing import square  # noqa: E402
from pipeline.review.reading import read_patch_list  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import seed  # noqa: E402
from tests.browser import live_server  # noqa: E402
from tests.browser import login as _login  # noqa: E402
from tests.review_fixtures import batch_rows, patch_frame  # noqa: E402

PA, PB, PN = "320115202400001", "320115202400002", "320115202400003"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("review-web")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    codes = seed(url)
    path = tmp / "issued.gpkg"
    # over a zone-A lead, over a zone-B lead, and one over no lead inside zone A
    patch_frame(batch_rows(3), [square(10, 10), square(510, 10), square(150, 150)]).to_file(path)
    with Ledger.open(url) as led:
        led.import_batch(BatchSpec("2024-1", date(2024, 6, 14), str(path), "0" * 64, "test",
                                   check_due=date(2024, 6, 20)), read_patch_list(path).frame)
    app = create_app(url, secret="review-web-secret-of-at-least-thirty-two-bytes")
    with live_server(app) as base:
        yield {"base": base, "url": url, "codes": codes, "tmp": tmp}


def _patches(page: object) -> list[str]:
    return sorted(page.locator("#patches tr[data-patch]").evaluate_all("rs => rs.map(r => r.dataset.patch)"))


def test_batch_page_by_zone_and_filters(server: dict, browser: object) -> None:
    base = server["base"]
    ana = _login(browser, base, "ana")
    ana.goto(f"{base}/review/2024-1")
    assert _patches(ana) == [PA, PB, PN]
    assert ana.inner_text("#found") == "2" and ana.inner_text("#share") == "67%"
    ana.goto(f"{base}/review/2024-1?found=no")
    assert _patches(ana) == [PN]
    pat = _login(browser, base, "pat")
    pat.goto(f"{base}/review/2024-1")
    assert _patches(pat) == [PA, PN]  # zone A only (the new lead is assigned to zone A too)
    assert "核查" in pat.inner_text(f"#patches tr[data-patch='{PA}'] td.late")  # check due 06-20
    bea = _login(browser, base, "bea")
    bea.goto(f"{base}/review/2024-1")
    assert _patches(bea) == [PB]
    resp = bea.request.get(f"{base}/review/patches/{PA}/dossier.pdf")
    assert resp.status == 404
    resp = pat.request.get(f"{base}/review/patches/{PA}/dossier.pdf")
    assert resp.status == 200 and resp.body().startswith(b"%PDF")


def test_evidence_form_refuses_then_saves(server: dict, browser: object) -> None:
    base, code = server["base"], server["codes"]["ZA"][0]
    page = _login(browser, base, "pat")
    page.goto(f"{base}/leads/{code}")
    page.wait_for_selector("#evidence-form")
    assert PA in page.inner_text("#evidence")
    page.select_option("select[name=judgment]", "违法")
    page.fill("input[name=land_use]", "0601")
    page.fill("input[name=area_mu]", "1.35")
    page.click("#evidence-submit")
    page.wait_for_selector("#error")
    assert "违法类型" in page.inner_text("#error") and "违法面积" in page.inner_text("#error")
    with Ledger.open(server["url"]) as led:
        assert not led.batch_patches("2024-1").set_index("patch_no").loc[PA, "evidence"]
    page.select_option("select[name=judgment]", "违法")
    page.fill("input[name=land_use]", "0601")
    page.fill("input[name=area_mu]", "1.35")
    page.select_option("select[name=violation_type]", "未批先建")
    page.fill("input[name=illegal_mu]", "1.35")
    page.fill("input[name=party]", "某村民")
    page.select_option("select[name=construction]", "新建")
    page.click("#evidence-submit")
    page.wait_for_selector("p.ok")
    with Ledger.open(server["url"]) as led:
        ev = led.batch_patches("2024-1").set_index("patch_no").loc[PA, "evidence"]
        assert ev["judgment"] == "违法" and ev["party"] == "某村民" and ev["illegal_mu"] == 1.35
        assert led.history(code)[-1]["actor"] == "pat"
        assert led.verify().ok
    assert "未判定" not in page.inner_text("#evidence")
