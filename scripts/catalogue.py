"""Maintain the message catalogue (pipeline/locale/<lang>/LC_MESSAGES/landpatrol.po).

    python scripts/catalogue.py add KEY "中文句子" "English sentence"   # add or change one key
    python scripts/catalogue.py import pipeline.web.x:WORDS web        # a {key: {"zh", "en"}} dict
    python scripts/catalogue.py check                                  # both languages, same keys

Keys are ``area.name`` (``web.*`` for the web app's words, ``ledger.*``, ``input.*``, ...);
sentences take ``{name}`` placeholders, the same in both languages.
"""
from __future__ import annotations

import string
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parents[1] / "pipeline" / "locale"
LANGS = ("zh", "en")


def _path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "landpatrol.po"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def add(key: str, zh: str, en: str) -> None:
    if _fields(zh) != _fields(en):
        raise SystemExit(f"{key}: placeholders differ between {zh!r} and {en!r}")
    for lang, text in zip(LANGS, (zh, en)):
        path = _path(lang)
        with path.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        header = path.read_text(encoding="utf-8").split('msgid ""', 1)[0]
        if key in cat:
            cat[key].string = text
        else:
            cat.add(key, text)
        with path.open("wb") as fh:
            fh.write(header.encode("utf-8"))
            write_po(fh, cat, width=0, omit_header=False, sort_output=False)
        body = path.read_text(encoding="utf-8")
        # write_po repeats its own header comment: keep the file's own
        start = body.index('msgid ""', len(header))
        body = body[start:].replace('"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\\n"\n', "")
        path.write_text(header + body, encoding="utf-8")


def import_dict(ref: str, prefix: str) -> int:
    """Add every entry of a ``{key: {"zh": ..., "en": ...}}`` dict (``module:NAME``) as
    ``<prefix>.<key>``, so words kept in code move into the catalogue in one step."""
    import importlib

    sys.path.insert(0, str(LOCALE.parents[1]))
    module, name = ref.split(":")
    words = getattr(importlib.import_module(module), name)
    for key, entry in words.items():
        add(f"{prefix}.{key}", entry["zh"], entry.get("en", entry["zh"]))
    return len(words)


def check() -> int:
    cats = {}
    for lang in LANGS:
        with _path(lang).open("rb") as fh:
            cats[lang] = {m.id: m.string for m in read_po(fh, locale=lang) if m.id}
    keys = set(cats["zh"]) ^ set(cats["en"])
    bad = [k for k in cats["zh"] if k in cats["en"] and _fields(cats["zh"][k]) != _fields(cats["en"][k])]
    for k in sorted(keys):
        print(f"{k}: only in one language")
    for k in bad:
        print(f"{k}: placeholders differ")
    return 1 if keys or bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "add":
        add(*sys.argv[2:5])
    elif len(sys.argv) == 4 and sys.argv[1] == "import":
        print(f"{import_dict(sys.argv[2], sys.argv[3])} key(s) added")
    elif sys.argv[1:] == ["check"]:
        sys.exit(check())
    else:
        raise SystemExit(__doc__)
