"""The evidence a run leaves under ``--out``: what a field team and an analyst look at first.

One folder per compared pair (``<before>_<after>_<key8>``)::

    leads.gpkg          leads with codes, zones, approvals, priority (EPSG:4326), QGIS styles
    leads.csv           the same as a table, UTF-8 with BOM, headers in the reader's language
    leads.xlsx          the same for Excel / WPS
    approved.gpkg       changes wholly covered by approvals (recorded, not leads)
    score.tif           change score 0..1 as a COG on the pair grid (uint8 steps of 1/250 with
                        the band's scale, 255 not valid: pipeline.io.scoreraster)
    change_class.tif    change class per changed pixel (uint8, pipeline.classes.ChangeClass), a
                        COG with colour table and category names (+ .aux.xml)
    quicklook.png       the pair side by side with every lead outlined and labelled
    overlay_before.png  true colour warped to EPSG:3857 (transparent outside the data), for web
    overlay_after.png   maps: an image overlay between the lat/lon bounds in overlay.json is exact
    overlay.json        {"bounds": [[south, west], [north, east]], "before_date", "after_date", "run"}
    before.tif          true colour of both dates at full resolution as COGs, served as map tiles
    after.tif           by the web app (see pipeline.web_layers)
    layers/*.geojson    the region's zones and approvals over the pair, as map layers
    chips/<code>.png    per lead: before | after around the patch
    run.json            the run report (inputs, hashes, parameters, counts)
    item.json           STAC Item of the run listing every file above

A run folder is built in three steps (:mod:`pipeline.rundirs` owns names and staging):
:func:`stage_outputs` writes what does not depend on lead codes into a hidden staging folder
before the ledger is written (a full disk fails here, with nothing recorded): the rasters, the
web overlays and the full-resolution true colour, the heavy part, which a region's flow has its
Dask workers write next to their analyses; :func:`publish_outputs` adds what names the codes
the ledger gave (leads, chips, quicklook, run.json, item.json) and renames the folder into
place. An existing folder is never
overwritten, a failure removes its staging folder, and a staging folder is never served.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
from rasterio.windows import Window

from pipeline.errors import OutputError

if TYPE_CHECKING:
    from pipeline.pairs import Analysis, PairPlan

RGB = ("red", "green", "blue")
QUICKLOOK_PIXELS = 1600 * 1600
CHIP_PAD_PX = 16
CHIP_MIN_PX = 64


def _rgb(bands: dict[str, np.ndarray]) -> np.ndarray:
    return np.dstack([bands[r] for r in RGB]).astype(np.float32)


def _chip_window(geom: Any, grid: Any) -> Window:
    """Pixel window around ``geom`` (grid CRS) with padding, at least CHIP_MIN_PX a side."""
    inv = ~grid.transform
    x0, y0, x1, y1 = geom.bounds
    cols, rows = zip(*(inv @ (x, y) for x, y in ((x0, y0), (x1, y1))))
    c0, c1 = int(np.floor(min(cols))) - CHIP_PAD_PX, int(np.ceil(max(cols))) + CHIP_PAD_PX
    r0, r1 = int(np.floor(min(rows))) - CHIP_PAD_PX, int(np.ceil(max(rows))) + CHIP_PAD_PX
    grow_c, grow_r = max(0, CHIP_MIN_PX - (c1 - c0)), max(0, CHIP_MIN_PX - (r1 - r0))
    c0, c1 = c0 - grow_c // 2, c1 + grow_c - grow_c // 2
    r0, r1 = r0 - grow_r // 2, r1 + grow_r - grow_r // 2
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1, grid.width), min(r1, grid.height)
    return Window(c0, r0, max(c1 - c0, 1), max(r1 - r0, 1))


SAMPLES_FILE = ".quicklook-samples.npz"
"""The staging folder's quicklook samples (RGB of both dates, ~60 MB whatever the scene size),
from :func:`write_imagery` to :func:`write_evidence`: one decimated pass over both files
instead of two, whichever process (a cluster's worker, the flow's) stages and publishes."""


def _staged_samples(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The quicklook samples staged with ``folder``, taken out of it (``None``: none there)."""
    path = folder / SAMPLES_FILE
    if not path.is_file():
        return None
    with np.load(path) as saved:
        samples = (saved["before"], saved["after"])
    path.unlink()
    return samples


def _quicklook_samples(rb: Any, ra: Any) -> tuple[np.ndarray, np.ndarray]:
    from pipeline.align import sample_pair

    (sb, _), (sa, _) = sample_pair(rb, ra, QUICKLOOK_PIXELS)
    return _rgb(sb), _rgb(sa)


def write_evidence(plan: PairPlan, leads: gpd.GeoDataFrame, folder: Path) -> None:
    """Quicklook of the whole pair and one chip per lead, read window by window."""
    from pipeline.align import TileReader
    from pipeline.evidence import write_chips, write_quicklook
    from pipeline.web_layers import write_outlines

    write_outlines(plan.zones, plan.approvals, plan.grid, folder)
    samples = _staged_samples(folder)
    if not set(RGB) <= set(plan.roles):
        return  # no true-colour bands to show
    dates = (plan.before.acquired, plan.after.acquired)
    with TileReader(plan.before, plan.grid, RGB) as rb, TileReader(plan.after, plan.grid, RGB) as ra:
        sb, sa = samples if samples is not None else _quicklook_samples(rb, ra)
        write_quicklook(sb, sa, leads, plan.grid, folder / "quicklook.png", dates=dates)
        del sb, sa
        chips = folder / "chips"
        chips.mkdir()
        for i in range(len(leads)):
            one = leads.iloc[[i]]
            win = _chip_window(one.geometry.iloc[0], plan.grid)
            (b, _), (a, _) = rb.read(win, 0), ra.read(win, 0)
            write_chips(_rgb(b), _rgb(a), one, plan.grid.window_transform(win), chips,
                        pad_px=CHIP_PAD_PX, dates=dates)


def _to_web_mercator(rgb: np.ndarray, grid: Any) -> tuple[np.ndarray, Any, tuple[int, int]]:
    """``rgb`` (a decimation of ``grid``) warped to EPSG:3857; NaN outside the data."""
    from rasterio.crs import CRS
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    from pipeline.evidence import array_transform

    rows, cols = rgb.shape[:2]
    src_transform = array_transform(grid, rgb.shape)
    left, bottom, right, top = grid.bounds
    dst_crs = CRS.from_epsg(3857)
    transform, width, height = calculate_default_transform(grid.crs, dst_crs, cols, rows,
                                                           left, bottom, right, top)
    out = np.full((3, height, width), np.nan, np.float32)
    reproject(np.moveaxis(rgb, 2, 0), out, src_transform=src_transform, src_crs=grid.crs,
              src_nodata=np.nan, dst_transform=transform, dst_crs=dst_crs, dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    return np.moveaxis(out, 0, 2), transform, (height, width)


def write_overlays(before_rgb: np.ndarray, after_rgb: np.ndarray, grid: Any, folder: Path,
                   dates: tuple[Any, Any], run_name: str) -> None:
    """Georeferenced true-colour images of both dates for web maps (see the module docstring)."""
    from PIL import Image
    from rasterio.warp import transform_bounds

    from pipeline.evidence import stretch_pair

    b, transform, (height, width) = _to_web_mercator(before_rgb, grid)
    a, _, _ = _to_web_mercator(after_rgb, grid)
    sb, sa = stretch_pair(b, a)
    for name, rgb, src in (("before", sb, b), ("after", sa, a)):
        alpha = np.where(np.isfinite(src).all(axis=2), 255, 0).astype(np.uint8)
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(folder / f"overlay_{name}.png")
    west, north = transform @ (0, 0)
    east, south = transform @ (width, height)
    w, s, e, n = transform_bounds("EPSG:3857", "EPSG:4326", west, south, east, north)
    doc = {"bounds": [[s, w], [n, e]], "before_date": str(dates[0]), "after_date": str(dates[1]),
           "run": run_name}
    (folder / "overlay.json").write_text(json.dumps(doc), encoding="utf-8")


def write_imagery(plan: PairPlan, folder: Path, run_name: str) -> None:
    """The web overlays and the full-resolution true colour of both dates (no lead drawn on
    them); the quicklook samples stay with the folder for :func:`write_evidence`."""
    from pipeline.align import TileReader
    from pipeline.parallel import both
    from pipeline.web_layers import stretch_limits, write_true_colour

    if not set(RGB) <= set(plan.roles):
        return
    dates = (plan.before.acquired, plan.after.acquired)
    with TileReader(plan.before, plan.grid, RGB) as rb, TileReader(plan.after, plan.grid, RGB) as ra:
        sb, sa = _quicklook_samples(rb, ra)
        write_overlays(sb, sa, plan.grid, folder, dates, run_name)
        limits = stretch_limits(sb, sa)  # both dates at once, each COG copy on every core
        both(lambda: write_true_colour(rb, plan.grid, RGB, limits, folder / "before.tif"),
             lambda: write_true_colour(ra, plan.grid, RGB, limits, folder / "after.tif"))
    np.savez(folder / SAMPLES_FILE, before=sb, after=sa)


@contextmanager
def _writing(final: Path, staging: Path) -> Iterator[None]:
    """OSError becomes OutputError naming ``final``; any failure removes ``staging``."""
    try:
        yield
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(final, f"cannot write run outputs ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def stage_outputs(plan: PairPlan, analysis: Analysis, out_dir: Path) -> Path:
    """Write the code-free part of the run folder (rasters, overlays, full-resolution true
    colour, approved changes) into a staging folder under ``out_dir``; returns it. Stale staging folders are removed first."""
    from pipeline.io.classraster import write_class_cog
    from pipeline.io.export import export_leads
    from pipeline.rundirs import clean_stale, staging_path

    clean_stale(out_dir)
    name = plan.run_name
    staging = staging_path(out_dir, name)
    shutil.rmtree(staging, ignore_errors=True)
    with _writing(out_dir / name, staging):
        staging.mkdir(parents=True)
        if len(analysis.approved):
            export_leads(analysis.approved, staging / "approved.gpkg", "gpkg")
        _link_or_copy(analysis.detection.score_path, staging / "score.tif")
        write_class_cog(analysis.detection.class_path, staging / "change_class.tif")
        write_imagery(plan, staging, name)
    return staging


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (a full-tile score COG is ~0.12 GB, and neither file is
    ever written again), or a copy where the two are on different file systems."""
    import os

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish_outputs(plan: PairPlan, analysis: Analysis, leads: gpd.GeoDataFrame,
                    staging: Path, out_dir: Path) -> Path:
    """Add the leads (with codes), chips, quicklook and run.json to ``staging`` and rename it
    into place as ``<run name>`` (``-2``... when taken); returns the published folder. A folder
    already published for this run is returned as it is."""
    from pipeline.io.export import export_leads
    from pipeline.io.stac import write_run_item
    from pipeline.rundirs import RUN_DOC, free_name, published_for

    done = published_for(out_dir, plan.run_name, plan.pair_key)
    if done is not None:
        shutil.rmtree(staging, ignore_errors=True)
        return done
    target = free_name(out_dir, plan.run_name)
    with _writing(target, staging):
        if len(leads):
            export_leads(leads, staging / "leads.gpkg", "gpkg")
        else:  # an empty layer still tells a GIS user "nothing found", with the schema
            leads.to_file(staging / "leads.gpkg", driver="GPKG", layer="leads")
        for fmt in ("csv", "xlsx"):
            export_leads(leads, staging / f"leads.{fmt}", fmt)
        write_evidence(plan, leads, staging)
        if target.name != plan.run_name:  # the overlays name their folder
            _rename_overlay_run(staging, target.name)
        doc = json.dumps(_run_doc(plan, analysis), indent=2, ensure_ascii=False, default=str)
        (staging / RUN_DOC).write_text(doc, encoding="utf-8")  # marks the folder whole
        write_run_item(staging, target.name)
        staging.rename(target)
    return target


def _rename_overlay_run(folder: Path, name: str) -> None:
    meta = folder / "overlay.json"
    if meta.is_file():
        doc = json.loads(meta.read_text(encoding="utf-8"))
        doc["run"] = name
        meta.write_text(json.dumps(doc), encoding="utf-8")


def _run_doc(plan: PairPlan, analysis: Analysis) -> dict[str, Any]:
    return {
        "pair_key": plan.pair_key,
        "before": {"path": str(plan.before.path), "sha256": plan.before_hash,
                   "date": plan.before.acquired, "sensor": plan.before.sensor},
        "after": {"path": str(plan.after.path), "sha256": plan.after_hash,
                  "date": plan.after.acquired, "sensor": plan.after.sensor},
        "grid": {"crs": plan.grid.crs.to_string(), "transform": list(plan.grid.transform)[:6],
                 "width": plan.grid.width, "height": plan.grid.height},
        "detector": {"name": plan.detector.name, "version": plan.detector.version},
        "parameters": plan.parameters,
        "scene": analysis.detection.scene,
        "stats": analysis.detection.stats.as_dict(),
        "leads": len(analysis.leads),
        "approved": len(analysis.approved),
    }
