"""Training the CNN detector (models/cnn.py) on the CPU, seeded; exported to ONNX.

PyTorch is needed here only (``pip install -e '.[train]'``); the product runs the ONNX file
through onnxruntime. One network per band set: ``full`` (6 bands, Sentinel-2 / Landsat) and
``rgb``. Training images are prepared as the detector prepares them (:func:`models.cnn.robust_stats`,
:func:`models.cnn.network_input`); patches of ``patch`` px are drawn, ``change_share`` of them
centred on labelled change (class-balanced sampling). Augmentations, per patch: flips and
90-degree rotations (both dates alike), per-date and per-band gain and offset jitter
(radiometry, season: a colour shift of each date), simulated misregistration (the after date
shifted by up to ``shift_px``, bilinear), and random band dropout (one band zeroed on both
dates). v2 adds (:func:`augment_v2`): an illumination / haze gradient across one date, a blur
of either date (a coarser or softer sensor), sensor noise, and unchanged pseudo-pairs (the
before date against a differently jittered, shifted copy of itself, labelled no change).
Loss: v1 binary cross-entropy with a positive weight from the class frequency (on top of the
change-centred sampling, which made it over-call); v2 unweighted cross-entropy on the
balanced patches plus a soft Dice term. The cut is 0.5 (no tuning on any image). Configurations
by version: :data:`CONFIGS`.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from lab.gbm_train import TrainImage, oscd_images, pair_images
from models.cnn import DILATIONS, network_input, receptive_radius, robust_stats
from models.features import BAND_SETS
from pipeline.evaluate.runner import pair_valid

SEED = 20261201
Say = Callable[[str], None]


@dataclass(frozen=True)
class CNNConfig:
    width: int = 12
    patch: int = 40
    batch: int = 16
    steps: int = 1200
    lr: float = 3e-3
    change_share: float = 0.5
    gain_jitter: float = 0.15
    offset_jitter: float = 0.3
    shift_px: float = 1.0
    band_dropout: float = 0.15
    dilations: tuple[int, ...] = DILATIONS
    loss: str = "bce-weighted"       # v1; "bce-dice": unweighted BCE + dice_weight x soft Dice
    dice_weight: float = 0.0
    warmup: int = 0                  # linear warm-up steps before the cosine decay
    weight_decay: float = 0.0
    gradient: float = 0.0            # illumination / haze gradient: gain ramp up to this across a patch
    blur_p: float = 0.0              # per date: probability of a Gaussian blur (sigma 0.3 .. 1.2 px)
    noise: float = 0.0               # per date: Gaussian noise of sigma up to this (IQR units)
    same_pair_p: float = 0.0         # probability of an unchanged pseudo-pair


CONFIGS: dict[str, CNNConfig] = {
    "v1": CNNConfig(),
    "v2": CNNConfig(width=16, patch=64, steps=2400, lr=3e-3, change_share=0.3, dilations=(1, 2, 4, 8),
                    loss="bce-dice", dice_weight=0.5, warmup=100, weight_decay=1e-4, gain_jitter=0.2,
                    gradient=0.15, blur_p=0.2, noise=0.08, same_pair_p=0.1),
}
LATEST = "v2"


def build_net(bands: int, width: int, dilations: Sequence[int] = DILATIONS) -> Any:
    import torch
    from torch import nn

    class SiamDiff(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            c_in = bands
            for d in dilations:
                layers += [nn.Conv2d(c_in, width, 3, padding=d, dilation=d), nn.ReLU()]
                c_in = width
            self.encoder = nn.Sequential(*layers)
            self.head = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 1, 1))
            self.bands = bands

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a, b = x[:, : self.bands], x[:, self.bands:]
            return self.head(torch.abs(self.encoder(a) - self.encoder(b)))

    return SiamDiff()


@dataclass
class Prepared:
    x: np.ndarray        # (2 * bands, rows, cols) standardised
    label: np.ndarray    # bool
    valid: np.ndarray


def prepare(images: Sequence[TrainImage], band_set: str) -> list[Prepared]:
    roles = list(BAND_SETS[band_set])
    out = []
    for im in images:
        valid = pair_valid({r: im.before[r] for r in roles}, {r: im.after[r] for r in roles})
        x = network_input(im.before, im.after, valid, roles, robust_stats(im.before, valid, roles),
                          robust_stats(im.after, valid, roles))[0]
        out.append(Prepared(x, np.asarray(im.label, bool), valid))
    return out


def augment_v2(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, cfg: CNNConfig,
               bands: int) -> tuple[np.ndarray, np.ndarray]:
    """v2's additions, before v1's augmentations: an unchanged pseudo-pair, a gain gradient
    across one date, a blur of either date and sensor noise (no draw when switched off)."""
    x = np.array(x, np.float32)
    y = np.array(y)
    if cfg.same_pair_p and rng.random() < cfg.same_pair_p:
        x[bands:] = x[:bands]
        y[:] = False
    p = x.shape[-1]
    if cfg.gradient:
        date = int(rng.integers(2))
        gy, gx = rng.uniform(-cfg.gradient, cfg.gradient, 2)
        ramp = np.linspace(-0.5, 0.5, p, dtype=np.float32)
        x[date * bands:(date + 1) * bands] *= 1 + np.float32(gy) * ramp[:, None] + np.float32(gx) * ramp[None, :]
    for date in (0, 1):
        sl = slice(date * bands, (date + 1) * bands)
        if cfg.blur_p and rng.random() < cfg.blur_p:
            x[sl] = ndimage.gaussian_filter(x[sl], (0, *[rng.uniform(0.3, 1.2)] * 2), mode="nearest")
        if cfg.noise:
            x[sl] += rng.normal(0, rng.uniform(0, cfg.noise), x[sl].shape).astype(np.float32)
    return x, y


def augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, cfg: CNNConfig, bands: int) -> tuple[np.ndarray, np.ndarray]:
    if cfg.same_pair_p or cfg.gradient or cfg.blur_p or cfg.noise:
        x, y = augment_v2(x, y, rng, cfg, bands)
    k = int(rng.integers(4))
    x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k)
    if rng.random() < 0.5:
        x, y = x[:, :, ::-1], y[:, ::-1]
    x = np.array(x, np.float32)
    y = np.array(y)
    for date in (0, 1):  # radiometric jitter per date and band, plus a seasonal shift of one date
        sl = slice(date * bands, (date + 1) * bands)
        gain = 1 + rng.uniform(-cfg.gain_jitter, cfg.gain_jitter, bands).astype(np.float32)
        offset = rng.normal(0, cfg.offset_jitter, bands).astype(np.float32)
        x[sl] = x[sl] * gain[:, None, None] + offset[:, None, None]
    dy, dx = rng.uniform(-cfg.shift_px, cfg.shift_px, 2)
    x[bands:] = ndimage.shift(x[bands:], (0, dy, dx), order=1, mode="nearest")
    if rng.random() < cfg.band_dropout:
        b = int(rng.integers(bands))
        x[b] = 0
        x[bands + b] = 0
    return x, y


def sample_batch(images: Sequence[Prepared], rng: np.random.Generator, cfg: CNNConfig,
                 bands: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p, xs, ys, ms = cfg.patch, [], [], []
    for _ in range(cfg.batch):
        im = images[int(rng.integers(len(images)))]
        rows, cols = im.label.shape
        if rng.random() < cfg.change_share and im.label.any():
            yy, xx = np.argwhere(im.label)[int(rng.integers(int(im.label.sum())))]
            r0 = int(np.clip(yy - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, rows - p))
            c0 = int(np.clip(xx - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, cols - p))
        else:
            r0, c0 = int(rng.integers(rows - p + 1)), int(rng.integers(cols - p + 1))
        x, y = augment(im.x[:, r0:r0 + p, c0:c0 + p], im.label[r0:r0 + p, c0:c0 + p], rng, cfg, bands)
        xs.append(x)
        ys.append(y)
        ms.append(im.valid[r0:r0 + p, c0:c0 + p])
    return np.stack(xs), np.stack(ys).astype(np.float32), np.stack(ms).astype(np.float32)


def train(images: Sequence[Prepared], band_set: str, cfg: CNNConfig, seed: int = SEED,
          say: Say = print) -> tuple[Any, dict[str, Any]]:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    bands = len(BAND_SETS[band_set])
    net = build_net(bands, cfg.width, cfg.dilations)
    sched: torch.optim.lr_scheduler.LRScheduler
    if cfg.loss == "bce-weighted":
        pos = sum(int(im.label[im.valid].sum()) for im in images)
        tot = sum(int(im.valid.sum()) for im in images)
        pos_weight = torch.tensor(float(np.clip((tot - pos) / max(pos, 1) * 0.2, 1.0, 20.0)))
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    else:  # the change-centred patches are the class balance; no extra weight
        pos_weight = torch.tensor(1.0)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, cfg.steps, cfg.warmup))
    t0, running = time.perf_counter(), 0.0
    for step in range(cfg.steps):
        xb, yb, mb = sample_batch(images, rng, cfg, bands)
        logit = net(torch.from_numpy(xb))[:, 0]
        y, m = torch.from_numpy(yb), torch.from_numpy(mb)
        loss_px = torch.nn.functional.binary_cross_entropy_with_logits(logit, y, pos_weight=pos_weight, reduction="none")
        loss = (loss_px * m).sum() / m.sum().clamp(min=1)
        if cfg.dice_weight:
            prob = torch.sigmoid(logit) * m
            loss = loss + cfg.dice_weight * (1 - (2 * (prob * y).sum() + 1) / (prob.sum() + (y * m).sum() + 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step else value
        if step % 100 == 0 or step == cfg.steps - 1:
            say(f"cnn {band_set} step {step}: loss {running:.4f} ({time.perf_counter() - t0:.0f}s)")
    info = {"pos_weight": float(pos_weight), "train_seconds": round(time.perf_counter() - t0, 1)}
    return net.eval(), info


def warmup_cosine(step: int, steps: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then a cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + float(np.cos(np.pi * (step - warmup) / max(steps - warmup, 1))))


def export_onnx(net: Any, bands: int, path: Path) -> None:
    import torch

    x = torch.zeros(1, 2 * bands, 64, 64)
    torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["logit"], opset_version=17,
                      dynamic_axes={"x": {2: "rows", 3: "cols"}, "logit": {2: "rows", 3: "cols"}}, dynamo=False)


def train_shipped(data: Path, out: Path, version: str, cfg: CNNConfig = CONFIGS["v1"], say: Say = print,
                  oscd_cities: Sequence[str] | None = None, aerial: bool = True,
                  band_sets: Sequence[str] = ("full", "rgb")) -> Path:
    """Train ``full`` (OSCD cities) and ``rgb`` (OSCD cities + aerial pairs), export, write the sidecar.

    With one of ``band_sets`` only, the other's entry in an existing sidecar of the same version
    and configuration is kept (each band set is seeded alike, so the order does not matter)."""
    oscd = [im for im in oscd_images(data / "oscd")
            if oscd_cities is None or im.group.split("/", 1)[1] in oscd_cities]
    rgb_images = oscd + (pair_images(data / "aerial", "aerial") if aerial else [])
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"name": "cnn", "version": version, "seed": SEED, "config": asdict(cfg),
                            "receptive_radius": receptive_radius(cfg.dilations), "dilations": list(cfg.dilations),
                            "band_sets": {}}
    sidecar = out / f"cnn-{version}.json"
    if sidecar.is_file():
        old = json.loads(sidecar.read_text())
        if {k: v for k, v in old.items() if k != "band_sets"} == {k: v for k, v in meta.items() if k != "band_sets"}:
            meta["band_sets"] = {k: v for k, v in old["band_sets"].items() if k not in band_sets}
    for band_set, images in (("full", oscd), ("rgb", rgb_images)):
        if band_set not in band_sets:
            continue
        net, info = train(prepare(images, band_set), band_set, cfg, SEED, say)
        model = f"cnn-{version}-{band_set}.onnx"
        export_onnx(net, len(BAND_SETS[band_set]), out / model)
        meta["band_sets"][band_set] = {"model": model, "bands": list(BAND_SETS[band_set]), "cut": 0.5,
                                       "train_groups": [im.group for im in images], **info}
    sidecar = out / f"cnn-{version}.json"
    sidecar.write_text(json.dumps(meta, indent=1) + "\n")
    return sidecar
