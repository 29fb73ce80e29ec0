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


def test_windows_take_the_member_of_the_scene() -> None:
    """Per scene, windows get the halo, side and thread safety of the member that detects it:
    a Sentinel-2-like pair under ``auto`` is read with cva's halo (0), not the ensemble's."""
    from models.base import DEFAULT_WINDOW_PX, window_halo, window_px, window_thread_safe

    class Heavy(CVADetector):
        window_px = 256
        thread_safe = False

    heavy = Heavy(smooth_rgb=5)
    det = BandSetDetector({"full": CVADetector(), "rgb": heavy})
    full = {"auto": {"band_set": "full"}}
    rgb = {"auto": {"band_set": "rgb"}}
    assert (window_halo(det, full), window_px(det, full), window_thread_safe(det, full)) == (0, DEFAULT_WINDOW_PX, True)
    assert (window_halo(det, rgb), window_px(det, rgb), window_thread_safe(det, rgb)) == (2, 256, False)
    cut = SceneCutDetector(det, "otsu")  # a cut around auto passes the member's settings on
    assert (window_halo(cut, rgb), window_px(cut, rgb)) == (2, 256)
    assert window_halo(CVADetector(smooth_rgb=3), {}) == 1 and window_px(CVADetector(), {}) == DEFAULT_WINDOW_PX


def test_default_window_is_the_detectors_and_results_do_not_depend_on_it(tmp_path) -> None:
    """``DetectParams.block_size`` None takes the detector's window; a forced side gives the
    same patches and rasters."""
    import rasterio

    from pipeline.align import TileReader, pair_grid
    from pipeline.detect import DetectParams, detect_pair
    from pipeline.io.tiles import open_tile
    from tests.scenes import make_scene

    scene = make_scene(tmp_path / "scene")
    before, after = open_tile(scene.before), open_tile(scene.after)
    grid = pair_grid(before, after)

    class Small(CVADetector):
        window_px = 32

    seen: list[int] = []
    runs: dict = {}
    for name, params in (("own", DetectParams()), ("forced", DetectParams(block_size=100))):
        with TileReader(before, grid) as rb, TileReader(after, grid) as ra:
            runs[name] = detect_pair(rb, ra, grid, Small(), tmp_path / name, params,
                                     progress=lambda done, total: seen.append(total))
    assert runs["own"].stats.windows == grid.n_blocks(32) > runs["forced"].stats.windows
    assert len(runs["own"].patches) == 3
    assert runs["own"].patches.geometry.geom_equals(runs["forced"].patches.geometry).all()
    for f in ("score_path", "class_path"):
        with rasterio.open(getattr(runs["own"], f)) as x, rasterio.open(getattr(runs["forced"], f)) as y:
            np.testing.assert_array_equal(x.read(), y.read())


def test_nir_member_takes_four_band_pairs_only() -> None:
    """With a ``nir`` member (v4.4: 4-band pairs at 5-15 m), a pair with nir and no swir goes to
    it; RGB pairs keep ``rgb`` and Sentinel-2-like pairs ``full``."""
    full, nir, rgb = CVADetector(), SceneCutDetector(CVADetector(), "ki"), IRMADDetector()
    det = BandSetDetector({"full": full, "nir": nir, "rgb": rgb})
    for roles, member in ((("red", "green", "blue"), "rgb"), (("red", "green", "blue", "nir"), "nir"),
                          (("blue", "green", "red", "nir", "swir1", "swir2"), "full")):
        before, after = _stack(roles, 0), _stack(roles, 1)
        res = run_pair(det, before, after, "syn")
        assert res.scene["auto"]["band_set"] == member
        assert res.scene["auto"]["detector"] == det.members[member].name
    assert "nir=cva:ki" in det.version
    with pytest.raises(ValueError):
        BandSetDetector({"full": full, "rgb": rgb, "swir": nir})
