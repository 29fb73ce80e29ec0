"""Training the GBM detector, with honest (nested) cross-validation.

Everything is seeded and single-threaded, so one command reproduces the artifact bit for bit.
Pixels are sampled per image: up to ``n_per_class`` changed and as many unchanged pixels for
fitting (each image weighs about the same). The prepared images are kept too, for choosing
the decision threshold the way the product is scored: whole-image out-of-fold probability
maps (smoothed as the detector smooths them), cut, cleaned by the product's
:class:`~pipeline.evaluate.runner.PostProcess`, and the cut with the best pooled F1 wins.

The threshold is always chosen on out-of-fold predictions *inside* the training groups
(leave-one-group-out, or round-robin ``INNER_FOLDS``-fold when there are more than that many
groups); a held-out city or pair is only ever used to score the finished fold model.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.features import compute_features, feature_names
from models.gbm import SMOOTH_PX, fill, fit_scene_params, prepare_after, probability_map
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.oscd import labelled_cities, read_city
from pipeline.evaluate.pairs import find_pairs
from pipeline.evaluate.runner import PostProcess, pair_valid

SEED = 20240601
INNER_FOLDS = 3
PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.1, "num_leaves": 31, "min_data_in_leaf": 200,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "max_bin": 63, "num_threads": 1, "deterministic": True, "force_col_wise": True, "verbosity": -1,
}
NUM_ROUNDS = 120
Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that makes one trained detector differ from another (recorded in its sidecar).

    ``params`` override :data:`PARAMS`; ``wide`` adds the wide feature block
    (:func:`models.features.wide_features`); ``smooth_px`` is the probability box width;
    ``outline_k`` (None = off) the detector's outline check (:mod:`lab.outline`), applied after
    the cut and not used in choosing it; ``outline_band_px`` confines it to objects' rims.
    """

    name: str = "v2"
    params: Mapping[str, Any] = field(default_factory=dict)
    rounds: int = NUM_ROUNDS
    n_per_class: int = 8_000
    smooth_px: int = SMOOTH_PX
    wide: bool = False
    outline_k: float | None = None
    outline_band_px: int | None = None

    def lgb_params(self, seed: int) -> dict[str, Any]:
        return dict(PARAMS, **self.params, seed=seed, bagging_seed=seed, feature_fraction_seed=seed, data_random_seed=seed)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = dict(PARAMS, **self.params)
        return d


# Step 7 of the v2 selection table (models/README.md): more rows, slower learning, smaller
# and more regularised trees.
REGULARISED = {"learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 500, "feature_fraction": 0.5}
CONFIGS: dict[str, TrainConfig] = {
    "v2": TrainConfig(),
    "reg": TrainConfig("reg", REGULARISED, rounds=300, n_per_class=20_000),
    "wide": TrainConfig("wide", wide=True),
    "reg-wide": TrainConfig("reg-wide", REGULARISED, rounds=300, n_per_class=20_000, wide=True),
    # v4.5 (c): a third of reg's trees at three times its learning rate (tree time ~1/3)
    "reg-lite": TrainConfig("reg-lite", dict(REGULARISED, learning_rate=0.15), rounds=100, n_per_class=20_000),
    # v4.9 (rejected: samples/ -0.03 F1): half of reg-lite's trees at twice its learning rate
    "reg-lite50": TrainConfig("reg-lite50", dict(REGULARISED, learning_rate=0.3), rounds=50, n_per_class=20_000),
}


@dataclass(frozen=True)
class TrainImage:
    group: str
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    label: np.ndarray


@dataclass(frozen=True)
class Prepared:
    """One training image after co-registration, normalisation and NaN filling."""

    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    scene: dict[str, Any]
    valid: np.ndarray
    label: np.ndarray


@dataclass(frozen=True)
class Table:
    """Class-balanced sampled ``fit`` rows, and the whole prepared images (for thresholds)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    g_fit: np.ndarray
    images: list[Prepared]
    groups: list[str]


def oscd_images(root: Path) -> list[TrainImage]:
    out = []
    for name in labelled_cities(root):
        c = read_city(root, name)
        out.append(TrainImage(f"oscd/{name}", c.before, c.after, c.label))
    return out


def pair_images(root: Path, prefix: str) -> list[TrainImage]:
    return [
        TrainImage(f"{prefix}/{p.name}", read_stack(p.before), read_stack(p.after), read_mask(p.label))
        for p in find_pairs(root, lambda _m: None)
    ]


def build_table(images: Sequence[TrainImage], band_set: str, seed: int = SEED, n_per_class: int | None = None,
                say: Say | None = None, config: TrainConfig = TrainConfig()) -> Table:
    n_per_class = config.n_per_class if n_per_class is None else n_per_class
    rng = np.random.default_rng(seed)
    xs, ys, gs, prepared = [], [], [], []
    for gi, im in enumerate(images):
        valid = pair_valid(im.before, im.after)
        scene = fit_scene_params(im.before, im.after, valid)
        b = fill({r: np.asarray(im.before[r], np.float32) for r in scene["roles"]}, scene["mean"])
        a = fill(prepare_after(im.after, scene), scene["mean"])
        flat = compute_features(b, a, scene, band_set, config.wide).reshape(len(feature_names(band_set, config.wide)), -1)
        idx = np.flatnonzero(valid.ravel())
        lab = im.label.ravel()[idx]
        pick = [rng.permutation(idx[lab == v])[:n_per_class] for v in (True, False)]
        fit_idx = np.sort(np.concatenate(pick))
        xs.append(flat[:, fit_idx].T.copy())
        ys.append(im.label.ravel()[fit_idx])
        gs.append(np.full(fit_idx.size, gi, np.int16))
        prepared.append(Prepared(b, a, scene, valid, np.asarray(im.label, bool)))
        if say:
            say(f"features {band_set} {im.group}: {fit_idx.size} fit rows, shift={scene['shift']}")
    return Table(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), prepared, [im.group for im in images])


def train_booster(x: np.ndarray, y: np.ndarray, band_set: str, seed: int = SEED,
                  config: TrainConfig = TrainConfig()) -> Any:
    import lightgbm as lgb

    data = lgb.Dataset(x, label=y.astype(np.float32), feature_name=feature_names(band_set, config.wide), free_raw_data=True)
    return lgb.train(config.lgb_params(seed), data, num_boost_round=config.rounds)


CUTS = np.round(np.arange(0.05, 0.951, 0.02), 2)


def best_threshold(probs: Sequence[np.ndarray], images: Sequence[Prepared],
                   post: PostProcess = PostProcess()) -> tuple[float, Confusion]:
    """The cut (grid :data:`CUTS`) maximising pooled F1 of the cleaned masks ``prob > cut``."""
    best, best_conf = 0.5, Confusion(0, 0, 0, 0)
    best_f1 = -1.0
    for cut in CUTS:
        tp = fp = fn = tn = 0
        for prob, im in zip(probs, images):
            c = Confusion.from_masks(post.apply((prob > cut) & im.valid) & im.valid, im.label)
            tp, fp, fn, tn = tp + c.tp, fp + c.fp, fn + c.fn, tn + c.tn
        conf = Confusion(tp, fp, fn, tn)
        if conf.f1 > best_f1:
            best, best_f1, best_conf = float(cut), conf.f1, conf
    return best, best_conf


def inner_folds(groups: Sequence[int]) -> list[list[int]]:
    g = sorted(groups)
    if len(g) <= INNER_FOLDS + 2:
        return [[x] for x in g]
    return [g[i::INNER_FOLDS] for i in range(INNER_FOLDS)]


def image_probability(table: Table, g: int, booster: Any, band_set: str, config: TrainConfig = TrainConfig(),
                      feats: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Whole-image (smoothed) probability map of training image ``g``; ``feats`` caches features."""
    im = table.images[g]
    f = feats.get(g) if feats is not None else None
    if f is None:
        f = compute_features(im.before, im.after, im.scene, band_set, config.wide)
        if feats is not None:
            feats[g] = f
    return probability_map(booster, f, im.valid, config.smooth_px, num_threads=1)


def inner_oof(table: Table, train_groups: Sequence[int], band_set: str, seed: int = SEED,
              config: TrainConfig = TrainConfig(), feats: dict[int, np.ndarray] | None = None,
              ) -> tuple[dict[int, np.ndarray], float, Confusion]:
    """Inner out-of-fold whole-image maps of ``train_groups``, and the cut they choose (with its counts)."""
    train_groups = sorted(train_groups)
    probs: dict[int, np.ndarray] = {}
    for fold in inner_folds(train_groups):
        m = np.isin(table.g_fit, [g for g in train_groups if g not in fold])
        booster = train_booster(table.x_fit[m], table.y_fit[m], band_set, seed, config)
        for g in fold:
            probs[g] = image_probability(table, g, booster, band_set, config, feats)
    cut, inner = best_threshold([probs[g] for g in train_groups], [table.images[g] for g in train_groups])
    return probs, cut, inner


def aerial_folds(table: Table, band_set: str, seed: int = SEED, config: TrainConfig = TrainConfig(),
                 feats: dict[int, np.ndarray] | None = None) -> Iterator[tuple[int, list[int], Any, float]]:
    """Aerial leave-one-pair-out on ``table``: per held-out aerial group ``k``, its training groups,
    the booster trained on them and the cut their inner out-of-fold maps choose (v4.5 (c))."""
    for k, group in enumerate(table.groups):
        if not group.startswith("aerial/"):
            continue
        train = [g for g in range(len(table.groups)) if g != k]
        _, cut, _ = inner_oof(table, train, band_set, seed, config, feats)
        m = np.isin(table.g_fit, train)
        yield k, train, train_booster(table.x_fit[m], table.y_fit[m], band_set, seed, config), cut


def fit_model(table: Table, train_groups: Iterable[int], band_set: str, seed: int = SEED,
              say: Say | None = None, config: TrainConfig = TrainConfig()) -> tuple[Any, float, dict[str, Any]]:
    """Booster on ``train_groups`` and its threshold from inner out-of-fold whole-image maps."""
    train_groups = sorted(train_groups)
    _, cut, inner = inner_oof(table, train_groups, band_set, seed, config)
    m = np.isin(table.g_fit, train_groups)
    booster = train_booster(table.x_fit[m], table.y_fit[m], band_set, seed, config)
    info = {"threshold": cut, "inner_cv_f1": round(inner.f1, 4), "train_groups": [table.groups[g] for g in train_groups]}
    if say:
        say(f"  model {band_set} on {len(train_groups)} groups: threshold={cut:.2f} inner-cv F1 (cleaned)={inner.f1:.3f}")
    return booster, cut, info


def default_say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
