"""``landpatrol serve``: the web app for analysts, supervisors and patrol members."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url


@app.command("serve")
def serve_command(
    ledger: Optional[str] = LedgerOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Folder of run folders with chips/ "
                                        "(default: the SQLite ledger's folder)."),
    uploads: Optional[Path] = typer.Option(None, "--uploads", help="Where field photos go "
                                           "(default: <ledger folder>/attachments)."),
    basemap: Optional[str] = typer.Option(None, "--basemap-url", help="XYZ tile URL template of an "
                                          "intranet basemap, e.g. http://gis.local/tiles/{z}/{x}/{y}.png "
                                          "(default: $LANDPATROL_BASEMAP_URL, else none)."),
) -> None:
    """Serve the map, lead pages, verification form, patrol sheets and the /api/ JSON API.

    Tokens and cookies are signed with $LANDPATROL_WEB_SECRET (random per start if unset).
    """
    import uvicorn

    from pipeline import settings
    from pipeline.evidence import drawing_lang
    from pipeline.ledger import Ledger
    from pipeline.web.app import create_app

    url = ledger or default_ledger_url()
    Ledger.open(url, create=False).close()  # a mistyped path is refused, not made an empty ledger
    drawing_lang("zh")  # warns when no CJK font is installed (chips would be English)
    env = settings.load()
    web = create_app(url, runs_dir=runs, uploads_dir=uploads,
                     max_upload_bytes=int(env.web_max_upload_mb * 1024 * 1024), basemap_url=basemap)
    typer.echo(f"landpatrol web app on http://{host}:{port}/ (API docs: /docs)")
    # X-Forwarded-Proto/-For only from a proxy the operator vouches for (uvicorn's default
    # trusts them from 127.0.0.1, which would let anyone on the host fake HTTPS)
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=env.web_trust_proxy)
