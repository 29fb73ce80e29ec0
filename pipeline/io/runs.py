"""A run folder (``pipeline.outputs``) as labelled arrays, for notebooks and analysis.

``open_run(folder)`` gives an ``xarray.Dataset`` whose ``score`` (0..1, NaN where not valid on
both dates) and ``change_class`` (uint8 :class:`pipeline.classes.ChangeClass`) are lazy dask
arrays backed by the run's GeoTIFFs (rioxarray), so a full Sentinel-2 tile opens instantly and
computes window by window; x/y coordinates and the CRS come from the files. The run report and
the leads GeoDataFrame ride along in ``attrs`` / :func:`run_leads`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd

from pipeline.errors import InputError


def _require(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise InputError(folder, f"not a landpatrol run folder (no {name})")
    return path


def _one_array(folder: Path, opened: Any, name: str) -> Any:
    """The one array of a single-raster GeoTIFF (a file of several subdatasets is not ours)."""
    import xarray as xr

    if not isinstance(opened, xr.DataArray):
        raise InputError(folder / name, "not a single raster")
    return opened


def open_run(folder: str | Path, chunks: int | dict[str, int] = 1024) -> Any:
    """The run's score and change-class rasters as one lazy ``xarray.Dataset``."""
    import rioxarray
    import xarray as xr

    folder = Path(folder)
    report = json.loads(_require(folder, "run.json").read_text(encoding="utf-8"))
    # the file's scale and nodata turn its stored steps into the score (pipeline.io.scoreraster)
    score = _one_array(folder, rioxarray.open_rasterio(_require(folder, "score.tif"), chunks=chunks,
                                                       mask_and_scale=True), "score.tif")
    classes = _one_array(folder, rioxarray.open_rasterio(_require(folder, "change_class.tif"),
                                                         chunks=chunks), "change_class.tif")
    ds = xr.Dataset({"score": score.squeeze("band", drop=True),
                     "change_class": classes.squeeze("band", drop=True)})
    ds["score"].attrs.update(long_name="change score", valid_range=(0.0, 1.0))
    ds["change_class"].attrs.update(long_name="change class (pipeline.classes.ChangeClass)")
    ds.attrs.update(before_date=str(report["before"]["date"]), after_date=str(report["after"]["date"]),
                    detector=f"{report['detector']['name']} {report['detector']['version']}",
                    threshold=report["parameters"].get("threshold"), pair_key=report["pair_key"])
    return ds.rio.write_crs(score.rio.crs)


def run_leads(folder: str | Path) -> gpd.GeoDataFrame:
    """The run's leads (EPSG:4326) as written to ``leads.gpkg``."""
    return gpd.read_file(_require(Path(folder), "leads.gpkg"))
