"""Compiled trees (models/compiled.py) predict what LightGBM predicts, cache safely, and fall back."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from models.compiled import BACKEND_ENV, CACHE_ENV, CompiledForest

lgb = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] > 0).astype(float)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbosity": -1, "seed": 1},
                        lgb.Dataset(x, y), num_boost_round=20)
    path = tmp_path_factory.mktemp("model") / "tiny.txt"
    booster.save_model(str(path))
    return path


def _x() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(500, 5)).astype(np.float32)


def test_compiled_equals_lightgbm_and_is_cached(model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("lleaves")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    booster = lgb.Booster(model_file=str(model_file))
    forest = CompiledForest(model_file, booster)
    assert forest.backend == "lleaves"
    np.testing.assert_allclose(forest.predict(_x(), 1), booster.predict(_x(), num_threads=1), atol=1e-12)
    cached = list((tmp_path / "cache" / "compiled").glob("tiny-*.o"))
    assert len(cached) == 1 and not list((tmp_path / "cache" / "compiled").glob("*.tmp"))
    again = CompiledForest(model_file, booster)  # loads the object file instead of compiling
    np.testing.assert_allclose(again.predict(_x(), 2), booster.predict(_x()), atol=1e-12)


def test_environment_forces_lightgbm(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "lightgbm")
    booster = lgb.Booster(model_file=str(model_file))
    forest = CompiledForest(model_file, booster)
    assert forest.backend == "lightgbm"
    np.testing.assert_array_equal(forest.predict(_x(), 1), booster.predict(_x(), num_threads=1))


def test_unusable_model_file_falls_back_with_one_line(tmp_path: Path, model_file: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.txt"
    bad.write_text("not a model\n")
    booster = lgb.Booster(model_file=str(model_file))
    forest = CompiledForest(bad, booster)
    np.testing.assert_array_equal(forest.predict(_x(), 1), booster.predict(_x(), num_threads=1))
    assert forest.backend == "lightgbm"
    err = capsys.readouterr().err
    assert "broken.txt: compiled trees unavailable" in err and err.count("\n") == 1


class _Reader:
    """A band reader the window pool can fork (no bands: the window function reads nothing)."""

    def fork(self) -> _Reader:
        return self

    def close(self) -> None:
        pass


def test_trees_stay_on_a_window_thread_when_windows_run_in_parallel() -> None:
    import os

    from models.compiled import prediction_threads
    from pipeline.parallel import map_windows

    assert prediction_threads(3) == 3
    assert prediction_threads() == (os.cpu_count() or 1)
    inside = list(map_windows(list(range(5)), _Reader(), _Reader(),
                              lambda b, a, w: (prediction_threads(), prediction_threads(2)), workers=2))
    assert inside == [(1, 2)] * 5
    # serial windows (one worker) keep every core for the trees
    serial = list(map_windows([0, 1], _Reader(), _Reader(), lambda b, a, w: prediction_threads(), workers=1))
    assert serial == [os.cpu_count() or 1] * 2


def test_compiled_predict_asks_for_one_thread_inside_a_window(model_file: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("lleaves")
    from pipeline.parallel import map_windows

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    forest = CompiledForest(model_file, lgb.Booster(model_file=str(model_file)))
    forest.predict(_x())
    asked: list[int] = []
    model, real = forest._model, forest._model.predict

    def spy(data: np.ndarray, n_jobs: int) -> np.ndarray:
        asked.append(n_jobs)
        return real(data, n_jobs=n_jobs)

    monkeypatch.setattr(model, "predict", spy)
    outside = forest.predict(_x())
    inside = list(map_windows([0, 1], _Reader(), _Reader(), lambda b, a, w: forest.predict(_x()), workers=2))
    assert asked == [os.cpu_count() or 1, 1, 1]
    np.testing.assert_array_equal(inside[0], outside)
