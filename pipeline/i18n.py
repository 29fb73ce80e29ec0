"""The message catalogue: every sentence a user reads, by key, in Chinese (default) and English.

Messages are keys with named parameters, kept in gettext catalogues (one ``.po`` per language
under ``pipeline/locale/<lang>/LC_MESSAGES/landpatrol.po``; ``msgid`` is the key, ``msgstr``
the sentence with ``{name}`` placeholders)::

    t("ledger.cannot_go", "zh", frm="新发现", to="已制止", allowed="已派发")
    t("web.title", "en")                                  # "Land patrol"

A key missing in one language falls back to Chinese, then to the key itself, so a new key
never breaks a page. The ``.po`` files are read with Babel (cached); ``make catalogue`` also
compiles them to ``.mo`` for gettext tools, and the tests check both stay valid.

Code that raises an error builds its text with :func:`msg`: the result is the English
sentence (so ``str(err)``, logs and tests stay English and stable) that also remembers its key
and parameters, so :func:`localized` can show the same error in the user's language.
Parameters that are themselves :func:`msg` values (states, outcomes) are translated too.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_ENV = "LANDPATROL_LANG"
DOMAIN = "landpatrol"
LOCALE_DIR = Path(__file__).with_name("locale")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGS))
def catalogue(lang: str) -> dict[str, str]:
    """Key -> sentence of one language (empty translations left out)."""
    from babel.messages.pofile import read_po

    path = po_path(lang)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def norm_lang(lang: str | None) -> str:
    """``lang`` if it is one we speak (``zh-CN`` counts as ``zh``), else the default."""
    if not lang:
        return default_lang()
    short = lang.split("-")[0].split("_")[0].lower()
    return short if short in LANGS else DEFAULT_LANG


def default_lang() -> str:
    """``$LANDPATROL_LANG`` (``zh`` or ``en``), else Chinese."""
    from pipeline import settings

    value = settings.load().lang
    short = value.split("-")[0].split("_")[0].lower()
    return short if short in LANGS else DEFAULT_LANG


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANG)


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The sentence ``key`` in ``lang`` (default: :func:`default_lang`), parameters filled in."""
    lang = norm_lang(lang)
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANG).get(key) or key
    if not params:
        return text
    shown = {k: (v.render(lang) if isinstance(v, Msg) else v) for k, v in params.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError):  # a translation naming a parameter not given
        return text


class Msg(str):
    """A catalogue message: its ``str`` is the English sentence; it keeps key and parameters."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, params: dict[str, Any] | None = None) -> Msg:
        params = dict(params or {})
        obj = super().__new__(cls, t(key, "en", **params))
        obj.key, obj.params = key, params
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (Prefect results) as key + parameters
        return (Msg, (self.key, self.params))

    def render(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)


def msg(key: str, /, **params: Any) -> Msg:
    """A message to raise or log: English as ``str``, any language with ``.render(lang)``."""
    return Msg(key, params)


def term(kind: str, value: Any) -> Msg | str:
    """A word of a closed list (``term("state", "new")``) as a message, or the value as is."""
    key = f"{kind}.{value}"
    return Msg(key) if has(key) else str(value)


def terms(kind: str, values: Any, sep: str = ", ") -> Msg | str:
    """Several words of one list, joined (each translated)."""
    items = [term(kind, v) for v in values]
    if not items:
        return ""
    params = {f"v{i}": v for i, v in enumerate(items)}
    return _Joined(sep, params)


class _Joined(Msg):
    """Translated words joined by a separator (a message with no catalogue entry of its own)."""

    sep: str

    def __new__(cls, sep: str, params: dict[str, Any] | None = None) -> _Joined:
        params = dict(params or {})
        obj = str.__new__(cls, sep.join(str(v) for v in params.values()))
        obj.key, obj.params, obj.sep = "", params, sep
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Joined, (self.sep, self.params))

    def render(self, lang: str | None = None) -> str:
        sep = "、" if norm_lang(lang) == "zh" and self.sep == ", " else self.sep
        return sep.join(v.render(lang) if isinstance(v, Msg) else str(v)
                        for v in self.params.values())


def localized(err: BaseException, lang: str | None = None) -> str:
    """An error as one line in ``lang``: ``"<source>: <problem>"``, translated where it came from
    the catalogue (otherwise its English text)."""
    problem = localized_problem(err, lang)
    source = getattr(err, "source", None) or getattr(err, "url", None)
    return f"{source}: {problem}" if source else problem


def localized_problem(err: BaseException, lang: str | None = None) -> str:
    """The problem part of an error (without the source) in ``lang``."""
    message = getattr(err, "message", None)
    if isinstance(message, Msg):
        return " ".join(message.render(lang).split())
    problem = getattr(err, "problem", None)
    return str(problem) if problem is not None else str(err)
