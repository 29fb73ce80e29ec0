"""``landpatrol train gbm|cv|select|cv-cva|cv-ensemble``: train the shipped GBM detector, choose its
configuration by nested CV, or cross-validate gbm, cva or the ensemble honestly.

A thin entry point: the training and cross-validation code lives in the top-level ``lab/``
folder of a source checkout (it is not installed with the package); run these commands from
the checkout's root. Without it they exit with status 2 and say so."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pipeline.cli.main import app

train_app = typer.Typer(help="Train detectors on labelled data (seeded, reproducible).", no_args_is_help=True)
app.add_typer(train_app, name="train")

@train_app.callback()
def _train_filters(ctx: typer.Context) -> None:
    """Features for training with scipy's filters, for the command's duration: the shipped
    artifacts were trained so, and their commands reproduce them byte for byte
    (models/filters.py)."""
    from models import filters

    filters.use_reference(True)
    ctx.call_on_close(lambda: filters.use_reference(False))


DataOpt = typer.Option(Path("../shared/data"), "--data", help="Folder holding oscd/ and aerial/.")


def lab(module: str) -> Any:
    """``lab.<module>`` from the source checkout, or :class:`ConfigError` saying where it lives."""
    import importlib
    import sys

    from pipeline.errors import ConfigError

    for root in (Path(__file__).resolve().parents[2], Path.cwd()):  # an editable install's checkout, or cwd
        if (root / "lab" / "__init__.py").is_file() and str(root) not in sys.path:
            sys.path.append(str(root))
            break
    try:
        return importlib.import_module(f"lab.{module}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("lab", f"lab.{module}"):
            raise
        raise ConfigError("landpatrol train", "needs the lab/ folder of a source checkout (training code is "
                          "not installed); run it from the checkout's root") from exc


def _check_data(data: Path) -> None:
    from pipeline.errors import InputError

    for sub in ("oscd", "aerial"):
        if not (data / sub).is_dir():
            raise InputError(data / sub, "training data folder missing")


# Options the cross-validation commands share.
JsonOpt = typer.Option(..., "--json", help="Write the cross-validation record here.", dir_okay=False)
OnlyOpt = typer.Option("oscd,aerial", "--only", help="Which studies: oscd, aerial or both.")
ConfigOpt = typer.Option("v2", "--config", help="Training configuration (lab/gbm_train.py CONFIGS): v2, reg, wide, reg-wide, reg-lite.")


def _config(name: str, smooth_px: int | None = None, outline_k: float | None = None,
            outline_band_px: int | None = None):
    """The named training configuration, optionally with another smoothing width or outline check."""
    import dataclasses

    from pipeline.errors import ConfigError

    CONFIGS = lab("gbm_train").CONFIGS

    if name not in CONFIGS:
        raise ConfigError("--config", f"unknown training configuration {name!r}; known: {', '.join(CONFIGS)}")
    config = CONFIGS[name]
    if smooth_px is not None:
        config = dataclasses.replace(config, smooth_px=_odd_width(smooth_px))
    if outline_k is not None:
        if not outline_k > 0:
            raise ConfigError("--outline", f"expected a noise multiple > 0, got {outline_k}")
        config = dataclasses.replace(config, outline_k=float(outline_k))
    if outline_band_px is not None:
        if outline_k is None or outline_band_px < 1:
            raise ConfigError("--outline-band", f"needs --outline and a width >= 1 px, got {outline_band_px}")
        config = dataclasses.replace(config, outline_band_px=int(outline_band_px))
    return config


def _odd_width(px: int) -> int:
    """``--smooth``: an odd box width >= 1, else refused naming the option."""
    from pipeline.errors import ConfigError

    if px < 1 or px % 2 == 0:
        raise ConfigError("--smooth", f"expected an odd width >= 1, got {px}")
    return px


SmoothOpt = typer.Option(None, "--smooth", help="Override the configuration's probability smoothing width (odd px).")
OutlineOpt = typer.Option(None, "--outline", help="Outline check: a changed pixel's own change must exceed "
                          "median + K robust sigmas of the scene (lab/outline.py, rejected); off by default.")
OutlineBandOpt = typer.Option(None, "--outline-band", help="Apply the outline check only within this many px "
                              "of an object's edge (its rim).")


@train_app.command("gbm")
def gbm_cmd(
    data: Path = DataOpt,
    out: Path = typer.Option(Path("models/artifacts"), "--out", help="Where the model files go."),
    version: str = typer.Option("v2", "--version", help="Artifact version (file names gbm-<version>*)."),
    config: str = ConfigOpt,
    smooth: int | None = SmoothOpt,
    outline: float | None = OutlineOpt,
    outline_band: int | None = OutlineBandOpt,
) -> None:
    """Train the shipped models (full: OSCD; rgb: OSCD + aerial) and write artifact + sidecar."""
    cfg = _config(config, smooth, outline, outline_band)
    _check_data(data)
    sidecar = lab("crossval").train_shipped(data, out, version, lab("gbm_train").default_say, cfg)
    typer.echo(str(sidecar))


def _studies(only: str) -> tuple[str, ...]:
    """``--only oscd,aerial`` as a tuple; anything else is refused naming the option."""
    from pipeline.errors import ConfigError

    parts = tuple(p.strip() for p in only.split(",") if p.strip())
    if not parts or set(parts) - {"oscd", "aerial"}:
        raise ConfigError("--only", f"expected oscd and/or aerial, got {only!r}")
    return parts


@train_app.command("cv")
def cv_cmd(
    data: Path = DataOpt,
    json_out: Path = JsonOpt,
    only: str = OnlyOpt,
    config: str = ConfigOpt,
    smooth: int | None = SmoothOpt,
    outline: float | None = OutlineOpt,
    outline_band: int | None = OutlineBandOpt,
) -> None:
    """OSCD leave-one-city-out and aerial leave-one-pair-out, thresholds by inner CV only."""
    from pipeline.cli.evaluate import write_json

    parts = _studies(only)
    cfg = _config(config, smooth, outline, outline_band)
    _check_data(data)
    write_json(json_out, lab("crossval").cross_validate(data, parts, lab("gbm_train").default_say, cfg))


@train_app.command("select")
def select_cmd(
    data: Path = DataOpt,
    json_out: Path = JsonOpt,
    config: str = ConfigOpt,
) -> None:
    """Nested inner-CV scores of a configuration on OSCD (held-out cities never scored)."""
    from pipeline.cli.evaluate import write_json

    cfg = _config(config)
    _check_data(data)
    write_json(json_out, lab("selection").select_oscd(data, cfg))


@train_app.command("cv-cva")
def cv_cva_cmd(
    data: Path = DataOpt,
    json_out: Path = JsonOpt,
    only: str = OnlyOpt,
    smooth: int = typer.Option(1, "--smooth", help="Box width of cva's RGB-only difference smoothing (odd px; 1 = cva 1.1)."),
) -> None:
    """cva's magnitude cut chosen leave-one-city-out (OSCD) and leave-one-pair-out (aerial)."""
    from pipeline.cli.evaluate import write_json

    parts = _studies(only)
    smooth = _odd_width(smooth)
    _check_data(data)
    write_json(json_out, lab("cvacv").cross_validate_cva(data, parts, smooth_rgb=smooth))


@train_app.command("cv-ensemble")
def cv_ensemble_cmd(
    data: Path = DataOpt,
    json_out: Path = JsonOpt,
    only: str = OnlyOpt,
    cache: Path | None = typer.Option(None, "--cache", help="Folder caching gbm fold probabilities (.npz).", file_okay=False),
    config: str = ConfigOpt,
    smooth: int | None = SmoothOpt,
    cuts: str = typer.Option("", "--cuts", help="Per-scene cuts also scored on each held-out image "
                             "(comma-separated: otsu, ki, gmm, spread), on the gate ensemble and on gbm."),
) -> None:
    """The cva+gbm ensemble constant chosen on training folds (gbm fold models as in `train cv`)."""
    from models.cuts import METHODS
    from pipeline.cli.evaluate import write_json
    from pipeline.errors import ConfigError

    methods = [c.strip() for c in cuts.split(",") if c.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ConfigError("--cuts", f"unknown cut {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    parts = _studies(only)
    cfg = _config(config, smooth)
    _check_data(data)
    write_json(json_out, lab("ensemblecv").cross_validate_ensemble(data, parts, cache, lab("gbm_train").default_say,
                                                                    None, cfg, methods))


@train_app.command("cnn")
def cnn_cmd(
    data: Path = DataOpt,
    out: Path = typer.Option(Path("models/artifacts"), "--out", help="Where the ONNX files and sidecar go."),
    version: str = typer.Option("v1", "--version", help="Artifact version (file names cnn-<version>*; v1 is the "
                                "shipped one); v1 and v2 train their recorded configuration, any other name the latest."),
    steps: int | None = typer.Option(None, "--steps", help="Training steps per band set (default: the version's)."),
    cities: str = typer.Option("abudhabi,bercy,bordeaux,hongkong,nantes,paris", "--cities",
                               help="OSCD cities to train on (the rest stay unseen)."),
    band_sets: str = typer.Option("full,rgb", "--band-sets", help="Which networks to train (full, rgb or both)."),
) -> None:
    """Train the Siamese CNN (full: OSCD; rgb: OSCD + aerial) on the CPU, seeded, and export it to ONNX.
    Needs the training extra: pip install -e '.[train]'."""
    import dataclasses

    from pipeline.errors import ConfigError

    try:
        import torch  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ConfigError("landpatrol train cnn", "needs PyTorch: pip install -e '.[train]'") from exc
    if steps is not None and steps < 1:
        raise ConfigError("--steps", f"expected a positive number of steps, got {steps}")
    chosen = [b.strip() for b in band_sets.split(",") if b.strip()]
    if not chosen or set(chosen) - {"full", "rgb"}:
        raise ConfigError("--band-sets", f"expected full, rgb or full,rgb, got {band_sets!r}")
    mod = lab("cnn_train")
    _check_data(data)
    cfg = mod.CONFIGS.get(version, mod.CONFIGS[mod.LATEST])
    if steps is not None:
        cfg = dataclasses.replace(cfg, steps=steps)
    names = [c.strip() for c in cities.split(",") if c.strip()]
    typer.echo(str(mod.train_shipped(data, out, version, cfg, lab("gbm_train").default_say, names,
                                     band_sets=chosen)))
