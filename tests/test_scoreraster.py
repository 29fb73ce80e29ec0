"""The score raster's storage (pipeline.io.scoreraster): steps of 1/250, the cut kept exact."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from pipeline.io.scoreraster import SCORE_NODATA, SCORE_SCALE, decode, encode, read_score


@pytest.mark.parametrize("threshold", [0.5, 0.31, 0.43, 0.0, 0.999])
def test_the_stored_score_keeps_the_cut(threshold: float) -> None:
    rng = np.random.default_rng(3)
    score = rng.random(20_000, dtype=np.float32)
    # scores right at and around the cut, where rounding to a step would cross it
    edge = np.float32(threshold) + np.arange(-8, 9, dtype=np.float32) * np.float32(1e-4)
    score = np.clip(np.concatenate([score, edge, np.float32([0.0, 1.0])]), 0, 1).astype(np.float32)
    valid = np.ones(score.shape, bool)
    valid[::7] = False
    stored = encode(score, valid, threshold)
    back = decode(stored)
    assert stored.dtype == np.uint8 and (stored[~valid] == SCORE_NODATA).all()
    assert np.isnan(back[~valid]).all()
    assert np.array_equal(back[valid] > threshold, score[valid] > threshold)
    # a step at most from the score: half a step, one where the cut moved it
    assert np.abs(back[valid] - score[valid]).max() <= SCORE_SCALE + 1e-6
    moved = np.abs(back[valid] - score[valid]) > SCORE_SCALE / 2 + 1e-6
    assert (np.abs(score[valid][moved] - threshold) <= SCORE_SCALE).all()


def _tif(path, data, dtype, nodata, scale=1.0):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=dtype, crs="EPSG:32650", transform=Affine(10, 0, 0, 0, -10, 0),
                       nodata=nodata) as dst:
        dst.write(data.astype(dtype), 1)
        dst.scales = (scale,)


def test_stored_and_float32_files_read_alike(tmp_path) -> None:
    """Runs before 2026-12-02 stored float32 scores (nodata -1): read_score and open_run's
    rioxarray read both as the score."""
    import rioxarray

    score = np.array([[0.0, 0.2, 0.8], [1.0, 0.5, 0.25]], np.float32)
    valid = np.array([[True, True, True], [True, False, True]])
    _tif(tmp_path / "new.tif", encode(score, valid, 0.5), "uint8", SCORE_NODATA, SCORE_SCALE)
    _tif(tmp_path / "old.tif", np.where(valid, score, -1), "float32", -1.0)
    with rasterio.open(tmp_path / "new.tif") as a, rasterio.open(tmp_path / "old.tif") as b:
        new, old = read_score(a), read_score(b)
    expected = np.where(valid, score, np.nan)
    np.testing.assert_allclose(new, expected, atol=SCORE_SCALE / 2)
    np.testing.assert_array_equal(old, expected)
    for name in ("new.tif", "old.tif"):
        arr = rioxarray.open_rasterio(tmp_path / name, mask_and_scale=True).values[0]
        np.testing.assert_allclose(arr, expected, atol=SCORE_SCALE / 2)
