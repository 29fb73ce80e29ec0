"""A region is known by one identity: its name and its code resolve to the same region, an
unknown one is refused, and responsibility zones added later take over the open leads inside."""
from __future__ import annotations

import pytest
from shapely.geometry import box

from pipeline.errors import ConfigError
from pipeline.ledger import Ledger
from pipeline.ledger.testing import leads_gdf, run_record, square
from pipeline.runner import run_pair
from tests.scenes import make_scene, pair_request
from tests.test_cli_ledger import cli as _cli


@pytest.fixture
def nanjing(ledger_url: str) -> str:
    """A ledger holding one imagery run of region nanjing, code NJ."""
    with Ledger.open(ledger_url) as led:
        led.record_run(run_record(region="NJ", region_name="nanjing"),
                       leads_gdf([square(0, 0, 50.0)]), None)
    return ledger_url


def test_name_and_code_resolve_to_one_region(nanjing, monkeypatch, capsys):
    rc, out, err = _cli(monkeypatch, capsys, "ledger", "report", "--lon", "118.9", "--lat", "32.2",
                        "--region", "nanjing", "--by", "operator", "--ledger", nanjing)
    assert rc == 0 and out.startswith("NJ-"), err
    rc, out, err = _cli(monkeypatch, capsys, "ledger", "report", "--lon", "118.7", "--lat", "32.0",
                        "--region", "NJ", "--by", "operator", "--ledger", nanjing)
    assert rc == 0 and out.startswith("NJ-"), err
    with Ledger.open(nanjing) as led:
        assert set(led.leads_frame()["region"]) == {"NJ"}
        assert led.resolve_region("Nanjing") == led.resolve_region("nj") == "NJ"
    rc, out, _ = _cli(monkeypatch, capsys, "ledger", "list", "--region", "nanjing", "--json",
                      "--ledger", nanjing)
    assert rc == 0 and out.count('"code"') == 3


def test_unknown_region_is_refused_and_nothing_written(nanjing, monkeypatch, capsys):
    rc, _, err = _cli(monkeypatch, capsys, "ledger", "report", "--lon", "118.9", "--lat", "32.2",
                      "--region", "nanjng", "--by", "operator", "--ledger", nanjing)
    assert rc == 2 and "unknown region" in err and "NJ (nanjing)" in err
    rc, _, err = _cli(monkeypatch, capsys, "leads", "export", "--output", "/dev/null",
                      "--region", "shanghai", "--ledger", nanjing)
    assert rc == 2 and "unknown region" in err
    with Ledger.open(nanjing) as led:
        assert len(led.leads_frame()) == 1


def test_a_run_naming_the_region_takes_its_code(tmp_path):
    scene = make_scene(tmp_path / "scene")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first = run_pair(pair_request(scene, url, region="nanjing", region_code="NJ"))
    assert first.created == ["NJ-2024-0001"]
    again = run_pair(pair_request(scene, url, region="nanjing", region_code=None,
                                  min_area_m2=500.0))
    assert again.region == "NJ" and again.updated == ["NJ-2024-0001"] and again.created == []
    with pytest.raises(ConfigError, match="knows the region as NJ"):
        run_pair(pair_request(scene, url, region="nanjing", region_code="NK"))


def test_zone_added_after_the_run_takes_over_its_open_leads(nanjing):
    with Ledger.open(nanjing) as led:
        lead = led.leads_frame().iloc[0]
        assert lead["assignee"] is None
        w, s, e, n = lead.geometry.bounds
        led.add_patrol_zone(code="Z-NEW", geometry=box(w - 0.01, s - 0.01, e + 0.01, n + 0.01),
                            level=1, persons="pat", by="admin")
        mine = led.leads_frame(zone="Z-NEW")
        assert list(mine["code"]) == [lead["code"]] and mine["assignee"].iloc[0] == "pat"
        assert led.history(lead["code"])[-1]["action"] == "zone_takeover"
        led.add_patrol_zone(code="Z-FAR", geometry=box(w + 1, s + 1, e + 1, n + 1), level=1,
                            persons="sam", by="admin")
        assert list(led.leads_frame(zone="Z-NEW")["code"]) == [lead["code"]]
        report = led.verify()  # the replay of the lead's events knows the takeover
        assert report.ok, report.describe()


def test_ledger_verify_is_clean_after_a_takeover_and_sees_it_undone(nanjing, monkeypatch, capsys):
    from sqlalchemy import update

    from pipeline.ledger.schema import Lead

    with Ledger.open(nanjing) as led:
        lead = led.leads_frame().iloc[0]
        w, s, e, n = lead.geometry.bounds
        led.add_patrol_zone(code="Z-NEW", geometry=box(w - 0.01, s - 0.01, e + 0.01, n + 0.01),
                            level=1, persons="pat", by="admin")
    rc, out, err = _cli(monkeypatch, capsys, "ledger", "verify", "--ledger", nanjing)
    assert rc == 0 and out.startswith("ok:"), err
    with Ledger.open(nanjing) as led:  # the takeover undone behind the ledger's back
        with led.engine.begin() as conn:
            conn.execute(update(Lead).where(Lead.code == lead["code"]).values(assignee=None))
    rc, _, err = _cli(monkeypatch, capsys, "ledger", "verify", "--ledger", nanjing)
    assert rc == 3 and lead["code"] in err and "assignee" in err


def test_a_ledger_from_before_knows_its_regions_by_code(ledger_url):
    from alembic import command

    from pipeline.ledger import migrate

    url = ledger_url
    with Ledger.open(url) as led:
        led.record_run(run_record(region="NJ"), leads_gdf([square(0, 0, 50.0)]), None)
        with led.engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0007")  # the revision before 0004
            assert migrate.current_revision(conn) == "0007"
    with Ledger.open(url) as led:  # upgraded in place
        assert led.resolve_region("nj") == "NJ"
        with pytest.raises(ConfigError):
            led.resolve_region("nanjing")


def test_zone_drawn_wider_takes_over(nanjing):
    with Ledger.open(nanjing) as led:
        lead = led.leads_frame().iloc[0]
        w, s, e, n = lead.geometry.bounds
        led.add_patrol_zone(code="Z-1", geometry=box(w - 1, s - 1, w - 0.5, s - 0.5), level=1,
                            persons="pat", by="admin")
        assert len(led.leads_frame(zone="Z-1")) == 0
        led.update_patrol_zone(code="Z-1", by="admin", geometry=box(w - 1, s - 1, e + 1, n + 1))
        assert list(led.leads_frame(zone="Z-1")["code"]) == [lead["code"]]
        assert led.verify().ok


