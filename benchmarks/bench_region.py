"""A region of several pairs through ``landpatrol monitor`` on 1 and on 2 Dask workers.

    python benchmarks/bench_region.py [--size 2048] [--pairs 8] [--workers 1 2] [--dask ADDR] [--out]

Builds (once, in ``--workdir``) a region folder of ``--pairs + 1`` dated tiles, alternating the
generated before/after pair of ``bench_pipeline.py`` (so every pair has the planted changes),
each a copy with a tag of its own (so every pair is analysed, none is a cached earlier one),
then runs the region flow into a fresh SQLite ledger for each setting: ``--workers 1`` (one
pair after another in the flow's process), ``--workers N`` (a LocalCluster of N processes) and,
with ``--dask``, a running scheduler; with ``--out`` every pair's run folder is written too.
Prints wall seconds and the speed-up over 1 worker, and checks every setting recorded the same
leads.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def make_region(workdir: Path, size: int, pairs: int) -> Path:
    import rasterio
    from bench_pipeline import generate

    before, after, zones = generate(workdir, size)
    region = workdir / f"region_{size}_{pairs}_distinct"
    tiles = region / "tiles"
    if tiles.is_dir() and len(list(tiles.iterdir())) == pairs + 1:
        return region
    shutil.rmtree(region, ignore_errors=True)
    tiles.mkdir(parents=True)
    day = date(2024, 1, 1)
    for i in range(pairs + 1):
        src = before if i % 2 == 0 else after
        dst = tiles / f"T_{day + timedelta(days=30 * i):%Y-%m-%d}.tif"
        shutil.copyfile(src, dst)
        # a tag of its own: every tile has its own content hash, so no pair's analysis is the
        # cached analysis of an earlier pair with the same two files (the pixels are the same)
        with rasterio.open(dst, "r+") as ds:
            ds.update_tags(BENCH_COPY=str(i))
    shutil.copy(zones, region / "zones.gpkg")
    (region / "region.yaml").write_text("name: benchregion\ncode: BR\ndetector: cva\n", encoding="utf-8")
    return region


def retag(region: Path) -> None:
    """A fresh tag in every tile: new content hashes, so no pair is the cached analysis of an
    earlier setting or bench run. Prefect persists ``analyse-pair`` results by analysis key
    across processes (``flows/detect_changes.py``); clearing the cache folder alone left those
    results in place, and a second setting then timed cached analyses."""
    import uuid

    import rasterio

    for tile in sorted((region / "tiles").glob("*.tif")):
        with rasterio.open(tile, "r+") as ds:
            ds.update_tags(BENCH_RUN=uuid.uuid4().hex)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dask", default=None)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/landpatrol-bench"))
    ap.add_argument("--out", action="store_true", help="also write every pair's run folder (monitor --out)")
    args = ap.parse_args()
    os.environ.setdefault("LANDPATROL_CACHE_DIR", tempfile.mkdtemp(prefix="landpatrol-cache-"))
    region = make_region(args.workdir, args.size, args.pairs)
    from pipeline.cli.monitor import run_monitor
    from pipeline.ledger import Ledger

    settings: list[tuple[str, int | None, str | None]] = [(f"{w} worker(s)", w, None) for w in args.workers]
    if args.dask:
        settings.append((f"scheduler {args.dask}", None, args.dask))
    seen, base = None, None
    for label, workers, dask in settings:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'ledger.sqlite'}"
            cache = Path(os.environ["LANDPATROL_CACHE_DIR"])
            for old in cache.glob("*"):  # no analysis cached from the last setting (models stay compiled)
                if old.name != "compiled":
                    shutil.rmtree(old, ignore_errors=True)
            retag(region)  # nor one of Prefect's persisted task results (keyed by the tiles' hashes)
            t0 = time.perf_counter()
            out = Path(tmp) / "runs" if args.out else None
            reports = run_monitor(region, url, out, workers=workers, dask=dask)
            seconds = time.perf_counter() - t0
            with Ledger.open(url) as led:
                leads = sorted((r.code, round(r.area_m2, 3)) for r in led.leads_frame().itertuples())
        base = base or seconds
        same = "" if seen is None else (", same leads" if leads == seen else ", LEADS DIFFER")
        seen = seen or leads
        print(f"{label:28s} {len(reports)} pairs {seconds:7.1f} s  speed-up {base / seconds:4.2f}x  "
              f"{len(leads)} leads{same}", flush=True)


if __name__ == "__main__":
    main()
