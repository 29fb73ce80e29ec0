"""LightGBM models compiled to native code (lleaves + LLVM) for fast CPU inference.

``gbm`` spends most of its time in ``Booster.predict`` (300 trees per pixel). lleaves compiles
a LightGBM text model into one native function: about 5x faster on one core, the same numbers
(float64 sums; largest difference seen 1e-16), and re-entrant, so windows may run on several
threads. Compiling takes a few seconds per model; the object file is cached under
``$LANDPATROL_CACHE_DIR`` (default ``~/.cache/landpatrol``) keyed by the model file's hash,
the llvmlite version and the host CPU, and written atomically (temporary file + rename), so
parallel runs never read a half-written object.

Nothing here is required: if lleaves/llvmlite are missing or compiling fails, or
``LANDPATROL_GBM_BACKEND=lightgbm`` is set, :class:`CompiledForest` predicts with LightGBM
itself and says so once on stderr.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import settings
from pipeline.parallel import in_window_thread

BACKEND_ENV = settings.GBM_BACKEND_ENV
CACHE_ENV = settings.CACHE_DIR_ENV


def cache_dir() -> Path:
    return settings.load().cache_root


class CompiledForest:
    """``predict(x, num_threads)`` like a LightGBM Booster's, compiled on first use (see module)."""

    def __init__(self, model_file: Path, booster: Any) -> None:
        self.model_file = Path(model_file)
        self.booster = booster          # the LightGBM fallback (also what training code uses)
        self._model: Any = None
        self._failed = settings.load().gbm_backend == "lightgbm"
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a pair's plan travels to Dask workers): the compiled code and the lock
        stay behind; the receiving process loads the cached object file on first use."""
        state = self.__dict__.copy()
        state["_model"], state["_lock"] = None, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "lleaves" if self._ensure() else "lightgbm"

    def _ensure(self) -> bool:
        if self._model is not None:
            return True
        if self._failed:
            return False
        with self._lock:
            if self._model is None and not self._failed:
                try:
                    self._model = _compile(self.model_file)
                except Exception as exc:  # noqa: BLE001 - any failure means: use LightGBM
                    self._failed = True
                    print(f"landpatrol: {self.model_file.name}: compiled trees unavailable ({exc}); "
                          f"predicting with LightGBM", file=sys.stderr)
        return self._model is not None

    def predict(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        if not self._ensure():
            return self.booster.predict(x, num_threads=num_threads)
        data = np.ascontiguousarray(x, dtype=np.float64)
        return self._model.predict(data, n_jobs=prediction_threads(num_threads))


def prediction_threads(num_threads: int = 0) -> int:
    """Threads the compiled trees use: ``num_threads`` when > 0; else one inside a pipeline
    window thread (:func:`pipeline.parallel.in_window_thread`: the other windows take the
    other cores; two windows of gbm at once run 13 % faster so, models/README.md v4.6), else
    the machine's cores."""
    if num_threads > 0:
        return num_threads
    return 1 if in_window_thread() else os.cpu_count() or 1


def _compile(model_file: Path) -> Any:
    import lleaves
    import llvmlite
    from llvmlite import binding

    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:16]
    cpu = binding.get_host_cpu_name()
    target = cache_dir() / "compiled" / f"{model_file.stem}-{digest}-llvmlite{llvmlite.__version__}-{cpu}.o"
    model = lleaves.Model(model_file=str(model_file))
    if target.is_file():
        model.compile(cache=str(target))
        return model
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        model.compile(cache=str(tmp))
        os.replace(tmp, target)
    except OSError:  # unwritable cache: compile in memory, every process pays the few seconds
        model = lleaves.Model(model_file=str(model_file))
        model.compile()
    return model
