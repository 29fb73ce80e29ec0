from __future__ import annotations

import numpy as np
import pytest

from models.features import FEATURE_RADIUS, band_set_for, compute_features, feature_names

ROLES = ("red", "green", "blue", "nir", "swir1", "swir2")
RGB_ROLES = ROLES[:3]


def _stacks(seed: int = 0, shape: tuple[int, int] = (70, 80)) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(seed)
    b = {r: rng.uniform(0.02, 0.3, shape).astype(np.float32) for r in ROLES}
    a = {r: v.copy() for r, v in b.items()}
    a["red"][20:30, 20:30] += 0.2
    scene = {"scale": {r: 0.08 for r in ROLES}, "bright_mean": 0.15, "cva_ref": 2.0, "cvaf_ref": 3.0}
    return b, a, scene


@pytest.mark.parametrize("band_set", ["rgb", "full"])
def test_shape_matches_names(band_set: str) -> None:
    b, a, scene = _stacks()
    f = compute_features(b, a, scene, band_set)
    assert f.shape == (len(feature_names(band_set)), 70, 80) and f.dtype == np.float32
    assert np.isfinite(f).all()
    cva = f[feature_names(band_set).index("cva")]
    assert cva[25, 25] > 2.0 and cva[50, 50] == 0.0


def test_window_invariance_within_radius() -> None:
    b, a, scene = _stacks(1)
    whole = compute_features(b, a, scene, "full")
    r0, c0, h, w = 30, 35, 10, 12
    pad = FEATURE_RADIUS
    win = (slice(r0 - pad, r0 + h + pad), slice(c0 - pad, c0 + w + pad))
    part = compute_features({k: v[win] for k, v in b.items()}, {k: v[win] for k, v in a.items()}, scene, "full")
    np.testing.assert_allclose(part[:, pad:-pad, pad:-pad], whole[:, r0:r0 + h, c0:c0 + w], rtol=1e-4, atol=1e-5)


def test_band_set_choice() -> None:
    assert band_set_for({"red", "green", "blue"}) == "rgb"
    assert band_set_for(set(ROLES)) == "full"
    assert band_set_for({"red", "green", "blue", "nir"}) == "rgb"


def test_context_separates_illumination_from_new_structure() -> None:
    """A uniform darkening keeps the dates correlated with no spectral angle; a new roof does not."""
    rng = np.random.default_rng(3)
    from scipy import ndimage

    tex = ndimage.gaussian_filter(rng.normal(size=(60, 60)), 1.0)
    tex = (tex / tex.std()).astype(np.float32)  # strong texture: the correlation floor (1e-8) is for flat areas
    b = {r: np.clip(0.2 + 0.06 * tex, 0.02, None).astype(np.float32) for r in ROLES}
    a = {r: (0.7 * v).astype(np.float32) for r, v in b.items()}
    for r, v in zip(RGB_ROLES, (0.4, 0.05, 0.3)):
        a[r][20:32, 20:32] = v  # a flat red roof
    scene = {"scale": {r: 0.05 for r in ROLES}, "bright_mean": 0.15, "cva_ref": 2.0, "cvaf_ref": 3.0}
    names = feature_names("rgb")
    f = compute_features(b, a, scene, "rgb")
    corr, sam, lrs = (f[names.index(n)] for n in ("corr_b5", "sam", "lr_std_b7"))
    assert corr[45, 45] > 0.95 and sam[45, 45] < 0.01 and lrs[45, 45] < 0.01
    assert sam[26, 26] > 0.3 and lrs[20, 26] > 0.05
    assert corr[26, 26] < 0.5  # a flat new roof over textured ground: structure not kept
