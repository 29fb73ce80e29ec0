"""The Prefect flow `review-batch`: import, reconcile and dossiers in one run; a rerun adds nothing."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.ledger import Ledger
from tests.review_fixtures import ISSUED, seed_ledger, standard_batch


def test_review_batch_flow(harness, tmp_path: Path) -> None:
    from flows.review_batch import review_batch
    from tests.pdfcheck import need_poppler

    need_poppler()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    seed_ledger(url)
    patches = standard_batch(tmp_path)
    out = tmp_path / "review"
    result = review_batch(patches=patches, batch="2024-1", issued_on=ISSUED, ledger=url, out=out,
                          check_due="10wd")
    assert result["totals"]["patches"] == 4 and result["totals"]["found_before"] == 3
    doc = json.loads((out / "reconcile.json").read_text(encoding="utf-8"))
    assert doc["totals"] == result["totals"]
    assert len(list((out / "dossiers").glob("*.pdf"))) == 4 and (out / "dossiers" / "index.csv").is_file()
    with Ledger.open(url) as led:
        events = led.chain_head().events
    again = review_batch(patches=patches, batch="2024-1", issued_on=ISSUED, ledger=url, dossiers=False)
    assert again["totals"] == result["totals"]
    with Ledger.open(url) as led:
        assert led.chain_head().events == events
