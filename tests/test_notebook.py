"""The analyst's notebook runs in the project's environment on a run made here (nbclient)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.runner import PairRequest, run_pair
from tests.scenes import make_scene

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "explore_run.ipynb"


def _outputs(cell: dict) -> tuple[str, set[str]]:
    text, kinds = "", set()
    for out in cell.get("outputs", []):
        text += out.get("text", "")
        data = out.get("data", {})
        kinds |= set(data)
        text += data.get("text/html", "") + data.get("text/plain", "")
    return text, kinds


@pytest.mark.slow
def test_explore_run_notebook_executes_on_a_fresh_run(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    scene = make_scene(tmp_path / "scene")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    report = run_pair(PairRequest(before=scene.before, after=scene.after, zones=scene.zones,
                                  approvals=scene.approvals, ledger_url=ledger,
                                  out_dir=tmp_path / "out", region="nbtown", region_code="NB"))
    monkeypatch.setenv("LANDPATROL_RUN", str(report.out_dir))
    monkeypatch.setenv("LANDPATROL_LEDGER", ledger)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO),
                                                                   os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), cell
    first, _ = _outputs(code[0])
    assert f"run {Path(report.out_dir).name}: 2024-03-01 -> 2024-06-01" in first
    assert "1 lead(s)" in first
    _, map_kinds = _outputs(code[1])
    assert "image/png" in map_kinds                       # the leads over the imagery
    _, hist_kinds = _outputs(code[2])
    assert "image/png" in hist_kinds                      # the score histogram with the cut
    table_text, table_kinds = _outputs(code[3])
    assert "text/html" in table_kinds and "NB-2024-0001" in table_text and ">new<" in table_text
    _, evidence = _outputs(code[4])
    assert "image/png" in evidence
