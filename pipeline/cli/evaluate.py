"""``landpatrol evaluate oscd|roi|pairs``: score a detector on labelled data; JSON is the record."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.main import evaluate_app

if TYPE_CHECKING:
    from pipeline.evaluate.runner import PostProcess

DetectorOpt = typer.Option(None, "--detector", help="auto (default: cva for multispectral, ensemble for RGB/pictures, "
                           "irmad:ki coarser than 15 m), cva, gbm, irmad, ensemble, cnn or naive (CVA + Otsu); "
                           "NAME:otsu|ki|gmm|spread adds a per-scene cut.")
JsonOpt = typer.Option(..., "--json", help="Write the JSON record here.", dir_okay=False)
ThresholdOpt = typer.Option(None, "--threshold", help="Override the detector's score threshold.")
RawOpt = typer.Option(False, "--raw", help="Score the pixel mask as is, without the product's clean-up "
                      "(3x3 square opening + minimum mapping unit, on by default for every detector).")


def _post(raw: bool) -> PostProcess:
    from pipeline.evaluate.runner import PostProcess

    return PostProcess.raw() if raw else PostProcess()


def write_json(path: Path, record: dict[str, Any]) -> None:
    from pipeline.errors import OutputError

    if not path.parent.is_dir():
        raise OutputError(path, "folder does not exist")
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror})") from exc


@evaluate_app.command("oscd")
def oscd_cmd(
    root: Path = typer.Argument(..., help="OSCD root holding images/ and labels/."),
    cities: str = typer.Option(None, "--cities", help="Comma-separated cities (default: every labelled city)."),
    detector: str = DetectorOpt,
    json_out: Path = JsonOpt,
    threshold: float = ThresholdOpt,
    raw: bool = RawOpt,
) -> None:
    """Per-city and pooled precision/recall/F1/IoU on the OSCD layout."""
    from pipeline.evaluate.baselines import resolve_detector
    from pipeline.evaluate.oscd import S2_PIXEL_AREA, evaluate_oscd

    names = [c.strip() for c in cities.split(",") if c.strip()] if cities else None
    det = resolve_detector(detector, S2_PIXEL_AREA ** 0.5)
    write_json(json_out, evaluate_oscd(root, det, names, threshold=threshold, post=_post(raw)))


@evaluate_app.command("roi")
def roi_cmd(
    before: Path = typer.Option(..., "--before", help="Earlier image (ENVI, GeoTIFF or picture)."),
    after: Path = typer.Option(..., "--after", help="Later image, same size."),
    change_mask: Path = typer.Option(..., "--change-mask", help="0/255 mask of labelled changed pixels."),
    unchanged_mask: Path = typer.Option(..., "--unchanged-mask", help="0/255 mask of labelled unchanged pixels."),
    detector: str = DetectorOpt,
    json_out: Path = JsonOpt,
    threshold: float = ThresholdOpt,
    raw: bool = RawOpt,
) -> None:
    """Detection rate on change pixels and false-alarm rate on unchanged pixels."""
    from pipeline.evaluate.baselines import resolve_detector
    from pipeline.evaluate.images import pixel_size_m
    from pipeline.evaluate.roi import evaluate_roi

    for p in (before, after, change_mask, unchanged_mask):
        if not p.exists():
            from pipeline.errors import InputError

            raise InputError(p, "no such file")
    det = resolve_detector(detector, pixel_size_m(before))
    write_json(json_out, evaluate_roi(before, after, change_mask, unchanged_mask, det, threshold=threshold,
                                       post=_post(raw)))


@evaluate_app.command("pairs")
def pairs_cmd(
    root: Path = typer.Argument(..., help="Folder of pairs: A/ B/ label/, or folders of im1 im2 gt."),
    detector: str = DetectorOpt,
    json_out: Path = JsonOpt,
    threshold: float = ThresholdOpt,
    raw: bool = RawOpt,
) -> None:
    """Per-pair and pooled precision/recall/F1/IoU on un-georeferenced pairs."""
    from pipeline.evaluate.baselines import resolve_detector
    from pipeline.evaluate.pairs import evaluate_pairs

    # pictures carry no pixel size: the default resolves as for fine pixels
    write_json(json_out, evaluate_pairs(root, resolve_detector(detector, None), threshold=threshold,
                                       post=_post(raw)))
