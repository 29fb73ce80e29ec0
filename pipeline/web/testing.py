"""A small ledger for tests of the web app (no pytest import here): two responsibility
zones, A and B, each holding leads, and one account per role."""
from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd

from pipeline.ledger import Ledger
from pipeline.ledger.testing import UTM_CRS, leads_gdf, run_record, square

PASSWORD = "correct horse battery"
USERS = {"ana": ("analyst", []), "sue": ("supervisor", ["ZA"]), "pat": ("patrol", ["ZA"]),
         "bea": ("patrol", ["ZB"])}


def _zone_geom(col: float, row: float, size_m: float) -> Any:
    return gpd.GeoSeries([square(col, row, size_m)], crs=UTM_CRS).to_crs("EPSG:4326").iloc[0]


def seed(url: str) -> dict[str, list[str]]:
    """Fill the ledger at ``url``; returns the lead codes per zone code (``ZA``, ``ZB``)."""
    with Ledger.open(url) as led:
        led.add_patrol_zone(code="ZA", geometry=_zone_geom(0, 0, 2000), level=1,
                            persons=["pat", "pat2"], by="test", name="片区A")
        led.add_patrol_zone(code="ZB", geometry=_zone_geom(500, 0, 2000), level=1,
                            persons=["bea", "bea2"], by="test", name="片区B")
        frame = leads_gdf([square(10, 10), square(60, 40), square(30, 90),  # zone A
                           square(510, 10), square(560, 60)])               # zone B
        outcome = led.record_run(run_record(after=date(2024, 5, 1)), frame, None)
        for name, (role, zones) in USERS.items():
            led.add_user(name=name, role=role, zones=zones, password=PASSWORD, by="test")
        codes = outcome.created
        return {"ZA": codes[:3], "ZB": codes[3:]}


def seed_dashboard(url: str) -> dict[str, list[str]]:
    """:func:`seed` plus what the dashboard shows: the first lead of each zone verified illegal a
    week ago and not reported (overdue), and one patrol of zone A today."""
    from datetime import UTC, datetime, timedelta

    from pipeline.timeutil import china_today

    codes = seed(url)
    today = china_today()
    with Ledger.open(url) as led:
        for code in (codes["ZA"][0], codes["ZB"][0]):
            led.transition(code, "dispatched", "sue", {"assignee": "pat"}, today=today)
            led.transition(code, "verified", "sue", {"outcome": "illegal", "personnel": "pat,pat2",
                                                     "on": (today - timedelta(days=7)).isoformat()}, today=today)
        led.add_patrol(started_at=datetime.now(UTC), personnel="pat,pat2", by="pat", zone_code="ZA")
    return codes
