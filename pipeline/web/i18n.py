"""Interface text: Chinese first, English with ``?lang=en`` (remembered in a cookie).

The words live in the project's one message catalogue (:mod:`pipeline.i18n`, keys ``web.*``
in ``pipeline/locale/<lang>/LC_MESSAGES/landpatrol.po``); templates call ``t("title")``.
New words: ``python scripts/catalogue.py add web.KEY 中文 English`` (or ``import module:DICT web``
for a ``{key: {"zh", "en"}}`` dict).
"""
from __future__ import annotations

from fastapi import Request

from pipeline import i18n

LANG_COOKIE = "lp_lang"
LANGS = i18n.LANGS


def class_label(lang: str):  # noqa: ANN201 - a plain callable handed to templates
    """A change-class key ("construction") as its label in ``lang`` ("建设占地")."""
    from pipeline.classes import ChangeClass

    def label(key: str | None) -> str:
        if not key:
            return ""
        try:
            found = ChangeClass.from_key(str(key))
        except (KeyError, ValueError):
            return str(key)
        return found.label_zh if lang == "zh" else found.label_en

    return label


def class_labels(lang: str) -> dict[str, str]:
    """Every change class key with its label, for the map's script."""
    from pipeline.classes import ChangeClass

    label = class_label(lang)
    return {c.key: label(c.key) for c in ChangeClass}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else "zh"


def translator(lang: str):  # noqa: ANN201 - a plain callable handed to templates
    """``t(key, **params)`` for templates: ``web.<key>`` of the catalogue, else the key itself
    (a catalogue key with a dot, ``state.new``, is looked up as given)."""

    def t(key: str, **params: object) -> str:
        full = key if "." in key else f"web.{key}"
        return i18n.t(full, lang, **params) if i18n.has(full) else key

    return t


def error_text(err: BaseException, lang: str) -> str:
    """An error's problem as one sentence in ``lang`` (for a form's error line)."""
    return i18n.localized_problem(err, lang)
