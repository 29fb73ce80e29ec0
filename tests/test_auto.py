"""``auto``'s fine-pixel detector (models/auto.py): the member by band set, flat scene, halo."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.auto import BandSetDetector
from models.cuts import SceneCutDetector
from models.cva import CVADetector
from models.irmad import IRMADDetector
from pipeline.evaluate.runner import run_pair


def _stack(roles: tuple[str, ...], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {r: (0.2 + 0.02 * rng.normal(size=(40, 40))).astype(np.float32) for r in roles}


@pytest.mark.parametrize(("roles", "member"), [
    (("red", "green", "blue"), "rgb"),
    (("red", "green", "blue", "nir"), "rgb"),
    (("blue", "green", "red", "nir", "swir1", "swir2"), "full"),
])
def test_member_by_bands_and_scene_says_which(roles: tuple[str, ...], member: str) -> None:
    full, rgb = SceneCutDetector(CVADetector(), "otsu"), IRMADDetector()
    det = BandSetDetector({"full": full, "rgb": rgb})
    before, after = _stack(roles, 0), _stack(roles, 1)
    res = run_pair(det, before, after, "syn")
    json.dumps(res.scene)
    assert res.scene["auto"]["band_set"] == member
    used = full if member == "full" else rgb
    assert res.scene["auto"]["detector"] == used.name
    np.testing.assert_array_equal(res.change.score, used.detect(before, after, res.valid, res.scene).score)
    assert "shift" not in res.scene or isinstance(res.scene["shift"], list)


def test_halo_and_thread_safety_cover_both_members() -> None:
    det = BandSetDetector({"full": CVADetector(), "rgb": CVADetector(smooth_rgb=5)})
    assert det.halo == 2 and det.thread_safe
    with pytest.raises(ValueError):
        BandSetDetector({"full": CVADetector()})
