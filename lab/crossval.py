"""Leave-one-out evaluation of the trained detector, and training the shipped artifact.

* OSCD: leave-one-city-out with the ``full`` band set. For each labelled city the model is
  trained on the other cities (threshold chosen by inner CV on those only) and the held-out
  city is scored by :func:`pipeline.evaluate.oscd.evaluate_oscd`, the code path of
  ``landpatrol evaluate oscd``. Confusion counts are pooled over the folds.
* Aerial pairs: leave-one-pair-out with the ``rgb`` band set, trained on every OSCD city plus
  the other aerial pairs, scored by :func:`pipeline.evaluate.pairs.evaluate_pairs`.
* The shipped artifact: ``full`` on all OSCD cities, ``rgb`` on all OSCD cities and all aerial
  pairs; thresholds by cross-validation inside that training set. Nanjing and ``samples/``
  are never trained on, so their scores with the shipped model are out-of-sample.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from lab.gbm_train import (
    SEED,
    Say,
    Table,
    TrainConfig,
    TrainImage,
    build_table,
    default_say,
    fit_model,
    oscd_images,
    pair_images,
)
from models.features import feature_names
from models.gbm import GBMDetector
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.oscd import evaluate_oscd
from pipeline.evaluate.pairs import evaluate_pairs


def _confusion(d: dict[str, Any]) -> Confusion:
    return Confusion(d["tp"], d["fp"], d["fn"], d["tn"])


def _detector(band_set: str, booster: Any, cut: float, config: TrainConfig, version: str) -> GBMDetector:
    if config.outline_k is not None:
        from lab.outline import OutlineGBM

        return OutlineGBM({band_set: (booster, cut)}, version=version, smooth_px=config.smooth_px, wide=config.wide,
                          outline_k=config.outline_k, outline_band_px=config.outline_band_px)
    return GBMDetector({band_set: (booster, cut)}, version=version, smooth_px=config.smooth_px, wide=config.wide)


def loco_oscd(oscd_root: Path, table: Table, say: Say = default_say, config: TrainConfig = TrainConfig()) -> dict[str, Any]:
    cities: dict[str, Any] = {}
    for gi, group in enumerate(table.groups):
        city = group.split("/", 1)[1]
        say(f"fold: hold out {city}")
        booster, cut, info = fit_model(table, [g for g in range(len(table.groups)) if g != gi], "full", say=say, config=config)
        det = _detector("full", booster, cut, config, "loco")
        res = evaluate_oscd(oscd_root, det, cities=[city], progress=say)
        cities[city] = dict(res["cities"][city], threshold=cut, inner_cv_f1=info["inner_cv_f1"])
    pool = pooled(_confusion(v) for v in cities.values())
    return {"pooled": pool.to_dict(), "cities": cities}


def lopo_pairs(pairs_root: Path, table: Table, prefix: str, say: Say = default_say,
               config: TrainConfig = TrainConfig()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for gi, group in enumerate(table.groups):
        if not group.startswith(prefix + "/"):
            continue
        name = group.split("/", 1)[1]
        say(f"fold: hold out {group}")
        booster, cut, info = fit_model(table, [g for g in range(len(table.groups)) if g != gi], "rgb", say=say, config=config)
        det = _detector("rgb", booster, cut, config, "lopo")
        res = evaluate_pairs(pairs_root, det, progress=say, only={name})
        out[name] = dict(res["pairs"][name], threshold=cut, inner_cv_f1=info["inner_cv_f1"])
    return {"pooled": pooled(_confusion(v) for v in out.values()).to_dict(), "pairs": out}


def load_tables(data: Path, say: Say = default_say, config: TrainConfig = TrainConfig()) -> tuple[Table, Table]:
    oscd = oscd_images(data / "oscd")
    aerial: list[TrainImage] = pair_images(data / "aerial", "aerial")
    full = build_table(oscd, "full", say=say, config=config)
    rgb = build_table(oscd + aerial, "rgb", say=say, config=config)
    return full, rgb


def cross_validate(data: Path, parts: tuple[str, ...] = ("oscd", "aerial"), say: Say = default_say,
                   config: TrainConfig = TrainConfig()) -> dict[str, Any]:
    """The record of ``landpatrol train cv``: OSCD leave-one-city-out, aerial leave-one-pair-out."""
    t0 = time.perf_counter()
    oscd = oscd_images(data / "oscd")
    record: dict[str, Any] = {"seed": SEED, "config": config.to_dict()}
    if "oscd" in parts:
        record["oscd_loco"] = loco_oscd(data / "oscd", build_table(oscd, "full", say=say, config=config), say, config)
    if "aerial" in parts:
        rgb = build_table(oscd + pair_images(data / "aerial", "aerial"), "rgb", say=say, config=config)
        record["aerial_lopo"] = lopo_pairs(data / "aerial", rgb, "aerial", say, config)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record


def train_shipped(data: Path, out: Path, version: str, say: Say = default_say,
                  config: TrainConfig = TrainConfig()) -> Path:
    """Train both band-set models on all their data and write the artifact + sidecar."""
    full, rgb = load_tables(data, say, config)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config.to_dict()
    meta: dict[str, Any] = {
        "name": "gbm", "version": version, "seed": SEED, "config": cfg["name"], "params": cfg["params"],
        "rounds": config.rounds, "n_per_class": config.n_per_class, "smooth_px": config.smooth_px, "wide": config.wide,
        "outline_k": config.outline_k, "outline_band_px": config.outline_band_px,
        "score": "booster probability, box-averaged over smooth_px, mapped so that 'threshold' falls at 0.5", "band_sets": {},
        "never_trained_on": ["landsat/Nanjing", "samples/levir-cd", "samples/dsifn", "slovenia"],
    }
    for band_set, table in (("full", full), ("rgb", rgb)):
        booster, cut, info = fit_model(table, range(len(table.groups)), band_set, say=say, config=config)
        model_file = f"gbm-{version}-{band_set}.txt"
        booster.save_model(str(out / model_file))
        meta["band_sets"][band_set] = {
            "model": model_file, "features": feature_names(band_set, config.wide), "threshold": cut,
            "inner_cv_f1": info["inner_cv_f1"], "trained_on": info["train_groups"],
            "fit_rows": int(table.x_fit.shape[0]), "features_n": len(feature_names(band_set, config.wide)),
        }
    sidecar = out / f"gbm-{version}.json"
    sidecar.write_text(json.dumps(meta, indent=1) + "\n")
    return sidecar
