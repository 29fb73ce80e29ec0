"""Copy the front-end files installed by npm (``web/node_modules``) into the package.

Run after ``cd web && npm ci``; the copied files under ``pipeline/web/static/vendor/`` are
committed, so installing landpatrol needs neither npm nor a CDN and the web app works offline.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "web" / "node_modules"
VENDOR = ROOT / "pipeline" / "web" / "static" / "vendor"

#: package -> files (relative to the package folder) copied into vendor/<package>/
FILES: dict[str, list[str]] = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png",
                "dist/images/layers-2x.png", "dist/images/marker-icon.png",
                "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "LICENSE"],
    # the /docs page (Swagger UI) served from the package, not from a CDN
    "swagger-ui-dist": ["swagger-ui-bundle.js", "swagger-ui.css", "oauth2-redirect.html",
                        "oauth2-redirect.js", "LICENSE", "NOTICE"],
}


def bundle(modules: Path = MODULES, vendor: Path = VENDOR) -> list[Path]:
    """Copy :data:`FILES` from ``modules`` into ``vendor``; returns the files written."""
    written: list[Path] = []
    for package, files in FILES.items():
        src_root = modules / package
        if not src_root.is_dir():
            raise SystemExit(f"{src_root}: not installed (run `cd web && npm ci` first)")
        version = json.loads((src_root / "package.json").read_text())["version"]
        dest_root = vendor / package
        if dest_root.exists():
            shutil.rmtree(dest_root)
        for rel in files:
            src = src_root / rel
            dest = dest_root / rel.removeprefix("dist/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            written.append(dest)
        (dest_root / "VERSION").write_text(f"{package} {version} (npm)\n")
    return written


if __name__ == "__main__":
    for path in bundle():
        print(path.relative_to(ROOT))
    sys.exit(0)
