"""HTML to A4 PDF with embedded Chinese fonts (WeasyPrint over Debian's pango + Noto CJK).

Every printed document of landpatrol (periodic reports, inspection dossiers) is an HTML page
rendered from a Jinja2 template in ``pipeline/reporting/templates/`` and turned into a PDF
here. WeasyPrint embeds the subset of each font it uses, so the PDF reads the same on a
machine without Chinese fonts; rendering, however, needs a CJK font on *this* machine, or
pango falls back to boxes. :func:`require_cjk_font` checks that first (fontconfig's
``fc-list :lang=zh``) and names the problem instead of printing a PDF of boxes.

Templates extend ``base.html``, which inlines the common stylesheet ``zh_a4.css`` (so a
saved HTML file looks like its PDF) (A4, 2 cm
margins, Noto Sans CJK SC for text, Noto Serif CJK SC for headings, page numbers).
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, OutputError

TEMPLATES = Path(__file__).with_name("templates")
CSS_FILE = TEMPLATES / "zh_a4.css"
#: Families the common stylesheet asks for, in order of preference.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC")
FONT_HINT = "install a Chinese font (Debian: apt-get install fonts-noto-cjk)"


class FontError(InputError):
    """No Chinese font (or no pango) is installed: a PDF would show boxes, or cannot be made."""


@lru_cache(maxsize=1)
def cjk_families() -> tuple[str, ...]:
    """Font families fontconfig knows for Chinese (``fc-list :lang=zh family``)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise FontError("fontconfig", f"fc-list not found, cannot check for Chinese fonts; {FONT_HINT}")
    out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                         check=False, timeout=60)
    names: set[str] = set()
    for line in out.stdout.splitlines():
        names.update(part.strip() for part in line.split(",") if part.strip())
    return tuple(sorted(names))


def require_cjk_font() -> str:
    """The CJK family the stylesheet will use; :class:`FontError` when there is none."""
    found = cjk_families()
    for family in CJK_FAMILIES:
        if family in found:
            return family
    if found:
        return found[0]
    raise FontError("fontconfig", f"no Chinese font installed (fc-list :lang=zh is empty); {FONT_HINT}")


def environment() -> Any:
    """The Jinja2 environment over the report templates (HTML autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v, nd=1: "—" if v is None else f"{100 * float(v):.{nd}f}%"
    env.filters["num"] = lambda v, nd=2: "—" if v is None else f"{float(v):,.{nd}f}"
    return env


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """Render ``template`` (a name under templates/) with ``context`` to an HTML string."""
    from jinja2 import TemplateNotFound

    try:
        tpl = environment().get_template(template)
    except TemplateNotFound as exc:
        raise InputError(template, f"no such report template under {TEMPLATES}") from exc
    return str(tpl.render(**context))


def _weasyprint() -> Any:
    """The weasyprint module; :class:`FontError` naming pango when its libraries are missing."""
    try:
        import weasyprint
    except OSError as exc:  # cffi cannot dlopen libpango / libpangoft2
        raise FontError("weasyprint", f"pango libraries not found ({exc}); install them "
                        "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)") from exc
    return weasyprint


def html_to_pdf(html: str, output: str | Path, *, base_url: str | Path | None = None) -> Path:
    """Write ``html`` as an A4 PDF to ``output`` with the common Chinese stylesheet.

    ``base_url`` resolves relative links (images); defaults to the templates folder.
    Raises :class:`FontError` without a CJK font and :class:`OutputError` when ``output``
    cannot be written (nothing is left behind: the PDF is written beside and renamed).
    """
    wp = _weasyprint()
    require_cjk_font()
    out = Path(output)
    if out.is_dir():
        raise OutputError(out, "is a directory, expected a .pdf file name")
    if not out.parent.exists():
        raise OutputError(out, f"folder {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.part")
    try:
        doc = wp.HTML(string=html, base_url=str(base_url or TEMPLATES))
        doc.write_pdf(str(tmp), stylesheets=[wp.CSS(filename=str(CSS_FILE))])
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(out, f"cannot write the PDF: {exc.strerror or exc}") from exc
    return out


def render_pdf(template: str, context: Mapping[str, Any], output: str | Path) -> Path:
    """Render ``template`` with ``context`` and write it as a PDF to ``output``."""
    return html_to_pdf(render_html(template, context), output)


def pdf_bytes(html: str) -> bytes:
    """The PDF of ``html`` in memory (for web downloads)."""
    wp = _weasyprint()
    require_cjk_font()
    data = wp.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[wp.CSS(filename=str(CSS_FILE))])
    return bytes(data or b"")
