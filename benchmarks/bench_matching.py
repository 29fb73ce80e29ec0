"""Matching a run's patches to a province-sized ledger's open leads, on SQLite and PostgreSQL.

    python benchmarks/bench_matching.py [--leads 100000] [--patches 10000] [--pg URL] [--scan]

Fills a fresh ledger with ``--leads`` open leads (30-60 m squares scattered over a 60 x 60 km
area near Nanjing, inserted in bulk) and matches ``--patches`` patches against them with
:func:`pipeline.ledger.matching.best_open_lead`, the function ``record_run`` calls per patch:
half the patches lie on a lead, half on open ground. Runs on SQLite (the R*Tree of revision
0011; with ``--scan`` also the bounding-box columns, ~17 min at the default sizes) and, with
``--pg`` (default ``$LANDPATROL_TEST_PG_URL``; a database is created and dropped), on
PostgreSQL with PostGIS (GiST index on ``leads.geom``) and on the same database through the
bounding-box path, for comparison. Prints seconds and patches per second for each.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LON0, LAT0, SPAN_DEG = 118.5, 31.8, 0.6  # ~60 km


def squares(rng: np.random.Generator, n: int, centres: np.ndarray | None = None) -> list:
    import shapely

    if centres is None:
        centres = np.column_stack([LON0 + rng.random(n) * SPAN_DEG, LAT0 + rng.random(n) * SPAN_DEG])
    half = (15 + rng.random(n) * 15) / 111_000.0
    return list(shapely.box(centres[:, 0] - half, centres[:, 1] - half,
                            centres[:, 0] + half, centres[:, 1] + half))


def fill(url: str, n: int, rng: np.random.Generator) -> list:
    import shapely
    from sqlalchemy import insert, text

    from pipeline.ledger import Ledger
    from pipeline.ledger.matching import bbox
    from pipeline.ledger.schema import Lead

    geoms = squares(rng, n)
    now, day = datetime.now(UTC), date(2024, 6, 1)
    rows = [dict(code=f"BENCH-2024-{i:06d}", region="BENCH", status="new", source="imagery",
                 geom_wkb=shapely.to_wkb(g), **bbox(g), area_m2=900.0, area_mu=1.35,
                 first_seen=day, last_seen=day, seen_count=1, centroid_lon=g.centroid.x,
                 centroid_lat=g.centroid.y, zones=[], approvals=[], approved_share=0.0,
                 created_at=now, updated_at=now) for i, g in enumerate(geoms, 1)]
    with Ledger.open(url) as led:
        def write(conn):
            for k in range(0, len(rows), 5000):
                conn.execute(insert(Lead), rows[k:k + 5000])
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE leads"))
        led.write(write)
    return geoms


def match(url: str, probes: list, spatial: bool | None = None) -> tuple[float, int]:
    """Seconds and matches; ``spatial=False`` takes the bounding-box columns (no GiST, no R*Tree)."""
    from pipeline.ledger import Ledger, matching

    with Ledger.open(url) as led:
        if spatial is not None:
            key = led.engine.url.render_as_string(hide_password=False)
            matching._SPATIAL[key] = matching._INDEXED[key] = spatial
        t0 = time.perf_counter()
        hits = led.read(lambda c: sum(matching.best_open_lead(c, "BENCH", g) is not None
                                      for g in probes))
        return time.perf_counter() - t0, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--patches", type=int, default=10_000)
    ap.add_argument("--pg", default=os.environ.get("LANDPATROL_TEST_PG_URL"))
    ap.add_argument("--scan", action="store_true", help="also time SQLite's bounding-box scan (slow)")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        from pipeline.ledger.testing import drop_ledger_url, fresh_ledger_url

        urls = [("sqlite", fresh_ledger_url("sqlite", Path(tmp)))]
        if args.pg:
            os.environ["LANDPATROL_TEST_PG_URL"] = args.pg
            urls.append(("postgresql", fresh_ledger_url("postgresql", Path(tmp))))
        probes: list = []
        for kind, url in urls:
            t0 = time.perf_counter()
            leads = fill(url, args.leads, np.random.default_rng(11))
            print(f"{kind}: {args.leads:,} leads inserted in {time.perf_counter() - t0:.1f} s", flush=True)
            if not probes:
                on = [g.centroid for g in leads[: args.patches // 2]]
                centres = np.array([[p.x, p.y] for p in on])
                probes = squares(rng, len(centres), centres) + squares(rng, args.patches - len(centres))
            runs = [("postgis" if kind == "postgresql" else "rtree", None)]
            if kind == "postgresql" or args.scan:
                runs.append(("bbox", False))
            for how, spatial in runs:
                seconds, hits = match(url, probes, spatial)
                print(f"{kind:10s} {how:8s} {len(probes):,} patches vs {args.leads:,} leads: "
                      f"{seconds:6.1f} s, {len(probes) / seconds:8.0f} patches/s, {hits:,} matched",
                      flush=True)
            drop_ledger_url(url)


if __name__ == "__main__":
    main()
