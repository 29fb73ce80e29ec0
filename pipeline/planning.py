"""The first stage of a run: open and check every input of a pair, and write nothing.

Everything that can be wrong with what a user gave (tiles, dates, zones, approvals, detector,
parameters, ``--out``) is refused here, as one :class:`~pipeline.errors.InputError`, before
the analysis runs and long before the ledger or ``--out`` is written.
"""
from __future__ import annotations

import errno
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, InputError, OutputError, SensorError
from pipeline.i18n import msg
from pipeline.pairs import PairPlan, PairRequest

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")


def region_code(request: PairRequest) -> str:
    """The region code a run records (the prefix of its lead codes)."""
    code = request.region_code or request.region
    return "".join(ch for ch in code.upper() if ch.isalnum() or ch == "-") or "ADHOC"


def resolve_region(request: PairRequest) -> PairRequest:
    """The request with the region's code as the ledger knows it: a region named without a
    code takes the code the ledger has for that name (``nanjing`` -> ``NJ``); a code given
    for a name the ledger knows under another code is refused."""
    from dataclasses import replace

    if not request.ledger_url:
        return request  # analysis alone (a benchmark, a worker): no database code imported
    from pipeline.ledger import Ledger

    if not Ledger.probe(request.ledger_url):
        return request  # a ledger not made yet knows no region
    with Ledger.open(request.ledger_url) as led:
        known = led.region_of(request.region)
    if known is None:
        return request
    if request.region_code is None:
        return replace(request, region_code=known)
    if known.casefold() != region_code(request).casefold():
        raise ConfigError(request.region, msg("input.region_known_as", known=known, given=request.region_code))
    return request


def check_out_dir(out_dir: Path) -> None:
    """Refuse an ``--out`` that cannot be created or written, before any work is done; a
    folder not there yet is checked through its nearest existing parent and not created
    (input refused later leaves no empty folder behind)."""
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".landpatrol-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(out_dir, msg("input.cannot_write_out", detail=str(exc.strerror or exc))) from None


def _utf8(path: Path | None, what: str) -> None:
    if path is None:
        return
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(path, msg("input.name_not_utf8", what=what)) from None


def _in_range(value: float | None, what: str, low: float, high: float) -> None:
    if value is None:
        return
    try:
        ok = math.isfinite(float(value)) and low <= float(value) <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(what, msg("input.number_range", value=repr(value), low=f"{low:g}", high=f"{high:g}"))


def check_request(request: PairRequest) -> None:
    """What can be checked without opening anything: file names, numbers in range."""
    for path, what in ((request.before, "--before"), (request.after, "--after"),
                       (request.zones, "--zones"), (request.approvals, "--approvals"),
                       (request.column_map, "--columns"), (request.out_dir, "--out")):
        _utf8(path, what)
    _in_range(request.threshold, "--threshold", 0.0, 1.0)
    _in_range(request.min_overlap, "--min-overlap", 0.0, 1.0)
    _in_range(request.min_area_m2, "--min-area", 0.0, 1e12)


def _open_pair(request: PairRequest) -> tuple[Any, Any]:
    from pipeline.checks import check_order, check_tile_date
    from pipeline.io.tiles import open_tile

    before = open_tile(request.before, sensor=request.sensor, acquired=request.before_date)
    after = open_tile(request.after, sensor=request.sensor, acquired=request.after_date)
    check_tile_date(before, "--before")
    check_tile_date(after, "--after")
    check_order(before, after, before.own_date, after.own_date)
    return before, after


def plan_pair(request: PairRequest) -> PairPlan:
    """Open and validate every input (tiles, zones, approvals, detector, params); write nothing."""
    from models.registry import check_detector_name, get_detector
    from pipeline.align import pair_grid
    from pipeline.checks import check_distinct, check_footprint, frame_digest
    from pipeline.detect import DetectParams
    from pipeline.identity import pair_key as ledger_pair_key
    from pipeline.io.tiles import tile_hash
    from pipeline.parallel import both
    from pipeline.zones import load_approvals, load_column_map, load_zones

    check_request(request)
    request = resolve_region(request)
    if request.out_dir is not None:
        check_out_dir(request.out_dir)
    check_detector_name(request.detector)  # a wrong name fails before any tile is opened
    min_area: dict[str, Any] = {} if request.min_area_m2 is None else {"min_area_m2": request.min_area_m2}
    params = DetectParams(threshold=request.threshold, block_size=request.block_size, **min_area)
    before, after = _open_pair(request)
    roles = tuple(r for r in ROLES if r in before.bands and r in after.bands)
    grid = pair_grid(before, after, min_overlap=request.min_overlap)
    detector = get_detector(request.detector, grid.pixel_area ** 0.5)  # the grid is projected, in metres
    missing = sorted(detector.required_roles - set(roles))
    if missing:
        lacking = before if any(m not in before.bands for m in missing) else after
        raise SensorError(lacking.path, msg("input.bands_for_detector", bands=", ".join(missing),
                                            detector=repr(detector.name)))
    columns = load_column_map(request.column_map) if request.column_map else None
    zones = load_zones(request.zones, columns=columns, target_crs=grid.crs)
    check_footprint(zones, grid, request.zones, before.path, after.path)
    approvals = (load_approvals(request.approvals, columns=columns, target_crs=grid.crs)
                 if request.approvals else None)
    # both files at once: hashlib hashes without the GIL (a Sentinel-2 tile pair: ~1.2 -> 0.7 s)
    before_hash, after_hash = both(lambda: tile_hash(before), lambda: tile_hash(after))
    check_distinct(before.path, after.path, before_hash, after_hash)
    parameters = {
        "threshold": params.threshold if params.threshold is not None else detector.threshold,
        "min_area_m2": params.min_area_m2,
        "min_overlap": request.min_overlap,
        "sensor": before.sensor,
        # what the patches were screened with belongs to what was compared
        "zones_sha256": frame_digest(zones),
        "approvals_sha256": frame_digest(approvals),
    }
    if any(t.cloud is None and t.cloud_bands for t in (before, after)):  # a computed cloud mask
        from pipeline.clouds import DEFAULT_SETTINGS

        parameters["clouds"] = DEFAULT_SETTINGS.describe(grid)
    analysis_key = ledger_pair_key(before_hash, after_hash, detector.name, detector.version,
                                   parameters)
    parameters["region"] = region_code(request)
    pair_key = ledger_pair_key(before_hash, after_hash, detector.name, detector.version,
                               parameters)
    return PairPlan(request, before, after, grid, zones, approvals, detector, params, roles,
                    before_hash, after_hash, pair_key, parameters, analysis_key)
