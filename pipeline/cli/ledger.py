"""``landpatrol ledger ...``: the patrol ledger from the command line.

Every command takes ``--ledger URL``; ``--json`` prints machine-readable output. Refused steps
and unreachable ledgers become one line on stderr and a non-zero exit (see ``options.run_app``).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer

from pipeline.cli.main import ledger_app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError, InputError
from pipeline.timeutil import china_text, from_china, now_utc

patrol_app = typer.Typer(help="Patrol records (巡查记录), zero reports included.", no_args_is_help=True)
zone_app = typer.Typer(help="Responsibility zones (分片包干).", no_args_is_help=True)
ledger_app.add_typer(patrol_app, name="patrol")
ledger_app.add_typer(zone_app, name="zone")

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _open(url: Optional[str], create: bool = True) -> Any:
    """The ledger at ``url``; commands that need an existing ledger pass ``create=False`` (no
    empty ledger made at a mistyped path). ``ledger report`` and ``ledger zone add`` may start one."""
    from pipeline.ledger import Ledger

    return Ledger.open(url or default_ledger_url(), create=create)


def _region(led: Any, region: Optional[str]) -> Optional[str]:
    """``--region`` (name or code) as the region code the ledger knows; unknown is refused."""
    return None if region is None else led.resolve_region(region)


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _day(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(option, f"'{value}' is not a YYYY-MM-DD date") from None


def _when(value: Optional[str], option: str) -> Optional[datetime]:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(option, f"'{value}' is not an ISO date-time (YYYY-MM-DDTHH:MM)") from None
    return from_china(dt)


def _fields(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", f"'{pair}' is not key=value")
        out[key.strip()] = value.strip()
    return out


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, no_wrap=col == "code")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    Console().print(table)


@ledger_app.command("list")
def list_cmd(status: Optional[str] = typer.Option(None, "--status"),
             zone: Optional[str] = typer.Option(None, "--zone", help="Patrol zone code."),
             region: Optional[str] = typer.Option(None, "--region"),
             as_json: bool = JsonOpt, ledger: Optional[str] = LedgerOpt) -> None:
    """Leads in the ledger."""
    with _open(ledger, create=False) as led:
        frame = led.leads_frame(region=_region(led, region), status=status, zone=zone)
    cols = ["code", "status", "source", "priority", "change_class", "area_m2", "assignee",
            "outcome", "first_seen", "last_seen", "report_due"]
    records = [{c: (None if _na(r[c]) else r[c]) for c in cols} for _, r in frame.iterrows()]
    if as_json:
        _echo_json(records)
        return
    _table(f"{len(records)} lead(s)", cols,
           [[f"{v:.0f}" if c == "area_m2" else v for c, v in r.items()] for r in records])


def _na(value: Any) -> bool:
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):
        return False


@ledger_app.command("show")
def show_cmd(code: str, as_json: bool = JsonOpt, ledger: Optional[str] = LedgerOpt) -> None:
    """One lead with its observations and the records of each step."""
    with _open(ledger, create=False) as led:
        lead = led.get_lead(code)
    if lead is None:
        raise InputError(code, "no such lead")
    lead["geometry"] = lead["geometry"].wkt
    if as_json:
        _echo_json(lead)
        return
    for key, value in lead.items():
        if key in ("observations", "verifications", "stop_notices", "reports", "cases", "attachments"):
            typer.echo(f"{key}:")
            for item in value:
                typer.echo("  - " + ", ".join(f"{k}={v}" for k, v in item.items() if k != "lead_id"))
        elif key == "legality":
            typer.echo(f"legality: {value['explanation']}")
        elif key != "geometry":
            typer.echo(f"{key}: {value}")


@ledger_app.command("transition")
def transition_cmd(code: str,
                   to: str = typer.Option(..., "--to", help="new, dispatched, verified, stopped, "
                                          "reported, filed, rectified, closed"),
                   by: str = typer.Option(..., "--by", help="Who takes the step."),
                   set_: list[str] = typer.Option([], "--set", help="key=value, e.g. assignee=wang, "
                                                  "outcome=illegal, personnel=zhang,li, "
                                                  "stop_measure=..., notice_no=..., case_no=..., on=DATE"),
                   note: Optional[str] = typer.Option(None, "--note"),
                   ledger: Optional[str] = LedgerOpt) -> None:
    """Take a lead one step through its lifecycle (refused steps change nothing)."""
    with _open(ledger, create=False) as led:
        led.transition(code, to, by, _fields(set_), note=note)
        status = led.get_lead(code)["status"]
    typer.echo(f"{code}: {status}")


@ledger_app.command("history")
def history_cmd(code: str, as_json: bool = JsonOpt, ledger: Optional[str] = LedgerOpt) -> None:
    """Every recorded change of a lead: who, when, before, after."""
    with _open(ledger, create=False) as led:
        events = led.history(code)
    if not events:
        raise InputError(code, "no such lead or no events")
    if as_json:
        _echo_json(events)
        return
    _table(code, ["at (China time)", "actor", "action", "before", "after", "note"],
           [[china_text(e["at"], seconds=True), e["actor"], e["action"], json.dumps(e["before"], ensure_ascii=False, default=str),
             json.dumps(e["after"], ensure_ascii=False, default=str)[:200], e["note"]] for e in events])


@ledger_app.command("overdue")
def overdue_cmd(today: Optional[str] = typer.Option(None, "--today", help="As of (YYYY-MM-DD)."),
                as_json: bool = JsonOpt, ledger: Optional[str] = LedgerOpt) -> None:
    """Leads whose violation report (due 2 working days after verification) is late."""
    with _open(ledger, create=False) as led:
        rows = led.overdue(today=_day(today, "--today"))
    if as_json:
        _echo_json(rows)
        return
    _table(f"{len(rows)} overdue", ["code", "status", "assignee", "verified_on", "report_due",
                                     "working_days_late"],
           [[r["code"], r["status"], r["assignee"], r["verified_on"], r["report_due"],
             r["working_days_late"]] for r in rows])


@ledger_app.command("stats")
def stats_cmd(start: str = typer.Option(..., "--from", help="YYYY-MM-DD"),
              end: str = typer.Option(..., "--to", help="YYYY-MM-DD"),
              region: Optional[str] = typer.Option(None, "--region"),
              zone: Optional[str] = typer.Option(None, "--zone"),
              unit: Optional[str] = typer.Option(None, "--unit", help="Responsible unit of the zones."),
              today: Optional[str] = typer.Option(None, "--today", help="As of (YYYY-MM-DD)."),
              as_json: bool = JsonOpt, ledger: Optional[str] = LedgerOpt) -> None:
    """Figures for a period and an area: leads by source/status/level, rates, areas, overdue.

    A lead counts in the period when work on it happened then (discovered, verified, stopped,
    filed, closed); the definitions are those of ``landpatrol assess``."""
    d0, d1 = _day(start, "--from"), _day(end, "--to")
    assert d0 is not None and d1 is not None
    if d1 < d0:
        raise ConfigError("--to", f"{d1} is before --from {d0}")
    with _open(ledger, create=False) as led:
        stats = led.stats(d0, d1, region=_region(led, region), zone=zone, unit=unit,
                          today=_day(today, "--today")).as_dict()
    if as_json:
        _echo_json(stats)
        return
    _table(f"ledger {d0} .. {d1}", ["figure", "value"],
           [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in stats.items()])


@ledger_app.command("report")
def report_cmd(lon: float = typer.Option(..., "--lon"), lat: float = typer.Option(..., "--lat"),
               region: str = typer.Option(..., "--region"),
               source: str = typer.Option("hotline", "--source",
                                          help="hotline, informant, media, referral, patrol, drone"),
               by: str = typer.Option(..., "--by"),
               on: Optional[str] = typer.Option(None, "--on", help="Reported on (YYYY-MM-DD)."),
               description: Optional[str] = typer.Option(None, "--description"),
               reporter: Optional[str] = typer.Option(None, "--reporter", help="Who reported it (kept confidential)."),
               contact: Optional[str] = typer.Option(None, "--contact", help="Reporter's phone/address (supervisors only)."),
               reply_due: Optional[str] = typer.Option(None, "--reply-due", help="Reply deadline (default +60 days)."),
               ledger: Optional[str] = LedgerOpt) -> None:
    """Register a lead reported by people; merges into an open lead at the same spot.

    Hotline, informant, media and referral reports go into the clue register (线索登记)."""
    from shapely.geometry import Point

    with _open(ledger) as led:
        out = led.report_lead(region=led.resolve_region(region), source=source, geometry=Point(lon, lat), by=by,
                              reported_on=_day(on, "--on"), description=description, reporter=reporter,
                              contact=contact, reply_due=_day(reply_due, "--reply-due"))
    typer.echo(f"{out.code}: {'merged into the open lead' if out.merged else 'new lead'}")


@ledger_app.command("attach")
def attach_cmd(code: str, file: Path, by: str = typer.Option(..., "--by"),
               lon: Optional[float] = typer.Option(None, "--lon"),
               lat: Optional[float] = typer.Option(None, "--lat"),
               taken_at: Optional[str] = typer.Option(None, "--taken-at"),
               bearing: Optional[float] = typer.Option(None, "--bearing", help="Camera direction, "
                                                       "degrees from north."),
               kind: str = typer.Option("photo", "--kind", help="photo, after_photo (整改后), document."),
               ledger: Optional[str] = LedgerOpt) -> None:
    """Attach a photo or document to a lead (kept by path and sha256)."""
    with _open(ledger, create=False) as led:
        digest = led.attach(code, file, by=by, lon=lon, lat=lat, taken_at=_when(taken_at, "--taken-at"),
                            bearing=bearing, kind=kind)
    typer.echo(f"{code}: attached {file} sha256={digest}")


def _geometry(value: str, option: str) -> Any:
    """A geometry from a vector file (all features, to EPSG:4326) or lon/lat WKT."""
    import shapely

    path = Path(value)
    if path.exists():
        import geopandas as gpd

        frame = gpd.read_file(path)
        if frame.crs is None:
            raise ConfigError(path, "layer has no CRS")
        return shapely.union_all(frame.to_crs(4326).geometry.values)
    try:
        return shapely.from_wkt(value)
    except shapely.errors.GEOSException:
        raise ConfigError(option, "neither an existing file nor WKT") from None


@patrol_app.command("add")
def patrol_add_cmd(personnel: str = typer.Option(..., "--personnel", help="At least two, comma-separated."),
                   by: str = typer.Option(..., "--by"),
                   start: Optional[str] = typer.Option(None, "--start", help="ISO date-time (default now)."),
                   end: Optional[str] = typer.Option(None, "--end"),
                   zone: Optional[str] = typer.Option(None, "--zone", help="Patrol zone code."),
                   route: Optional[str] = typer.Option(None, "--route", help="Line: vector file or WKT (lon/lat)."),
                   lead: list[str] = typer.Option([], "--lead", help="Lead code found or checked (repeatable)."),
                   situation: Optional[str] = typer.Option(None, "--situation"),
                   project: Optional[str] = typer.Option(None, "--project"),
                   party: Optional[str] = typer.Option(None, "--party"),
                   location: Optional[str] = typer.Option(None, "--location"),
                   stop_measures: Optional[str] = typer.Option(None, "--stop-measures"),
                   effect: Optional[str] = typer.Option(None, "--effect"),
                   follow_up: Optional[str] = typer.Option(None, "--follow-up"),
                   ledger: Optional[str] = LedgerOpt) -> None:
    """Record a patrol; with no --lead and no --situation it is a zero report."""
    with _open(ledger, create=False) as led:
        pid = led.add_patrol(
            started_at=_when(start, "--start") or now_utc(), ended_at=_when(end, "--end"),
            personnel=personnel, by=by, zone_code=zone,
            route=None if route is None else _geometry(route, "--route"), lead_codes=lead,
            situation=situation, project=project, party=party, location=location,
            stop_measures=stop_measures, effect=effect, follow_up=follow_up)
    typer.echo(f"patrol {pid} recorded" + ("" if lead or situation else " (zero report)"))


@zone_app.command("add")
def zone_add_cmd(code: str = typer.Option(..., "--code"), level: int = typer.Option(..., "--level"),
                 persons: str = typer.Option(..., "--persons", help="Responsible persons, comma-separated."),
                 geometry: str = typer.Option(..., "--geometry", help="Vector file or lon/lat WKT."),
                 by: str = typer.Option(..., "--by"),
                 name: Optional[str] = typer.Option(None, "--name"),
                 unit: Optional[str] = typer.Option(None, "--unit"),
                 region: Optional[str] = typer.Option(None, "--region"),
                 ledger: Optional[str] = LedgerOpt) -> None:
    """Add a responsibility zone; new leads inside it are assigned to its persons."""
    with _open(ledger) as led:
        led.add_patrol_zone(code=code, geometry=_geometry(geometry, "--geometry"), level=level,
                            persons=persons, by=by, name=name, unit=unit,
                            region=_region(led, region))
    typer.echo(f"zone {code} added")
