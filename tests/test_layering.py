"""The web app reaches the ledger through its facade only (``pipeline.ledger``'s public names)."""
from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "pipeline" / "web"
#: test support may build ledgers with the ledger's own test helpers
ALLOWED = {"testing.py": {"pipeline.ledger.testing"}}


def ledger_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``pipeline.ledger`` submodule in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names]
                                     if node.module == "pipeline.ledger" else [])
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("pipeline.ledger."):
                found.append((node.lineno, name))
    return found


def public_names() -> set[str]:
    import pipeline.ledger

    return {f"pipeline.ledger.{n}" for n in pipeline.ledger.__all__}


def test_web_imports_only_the_ledger_facade() -> None:
    public = public_names()
    bad = [f"pipeline/web/{p.relative_to(WEB)}:{line}: {name}"
           for p in sorted(WEB.rglob("*.py")) for line, name in ledger_imports(p)
           if name not in public and name not in ALLOWED.get(str(p.relative_to(WEB)), set())]
    assert not bad, "web code imports ledger internals:\n" + "\n".join(bad)


def test_the_check_sees_an_internal_import(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from pipeline.ledger.overdue import overdue_steps\n"
                   "from pipeline.ledger import Ledger, STATES\nimport pipeline.ledger.events\n")
    got = [n for _, n in ledger_imports(src)]
    assert "pipeline.ledger.overdue" in got and "pipeline.ledger.events" in got
    assert {"pipeline.ledger.Ledger", "pipeline.ledger.STATES"} <= public_names()
    assert sorted(n for n in got if n not in public_names()) == ["pipeline.ledger.events",
                                                                 "pipeline.ledger.overdue"]
