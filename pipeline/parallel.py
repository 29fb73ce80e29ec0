"""Detection windows on several threads, results in window order.

Scenes are processed window by window; windows are independent, so they run on a pool of
threads (GDAL decoding, warping and most numpy work release the GIL). rasterio datasets are
not thread-safe, so every thread reads through its own fork of the band readers
(``reader.fork()``) inside a ``rasterio.Env`` carrying the caller's GDAL options; readers
without ``fork`` (test fakes) run in the calling thread. A few windows per thread are in
flight at a time (:func:`map_windows`), which bounds memory to a few windows of bands, and
the next window starts while the caller consumes the last one (writes it, cleans it up).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from rasterio.windows import Window

T = TypeVar("T")
U = TypeVar("U")
WindowFn = Callable[[Any, Any, Window], T]


def gdal_options() -> dict[str, Any]:
    """The caller's GDAL options (``rasterio.Env``), to carry into other threads."""
    from rasterio.env import getenv, hasenv

    return dict(getenv()) if hasenv() else {}


def trim_heap() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere a
    no-op). Each detection thread allocates from its own malloc arena; what a thread frees
    stays in its arena, and the next stage (the COG copy, the next pair) allocates elsewhere:
    without this, peak memory grows by what the window pass freed."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def both(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """``first()`` and ``second()`` at once on two threads (each must use its own datasets;
    GDAL decodes and encodes without the GIL), in the caller's GDAL options."""
    from concurrent.futures import ThreadPoolExecutor

    import rasterio

    options = gdal_options()

    def in_env(fn: Callable[[], Any]) -> Any:
        with rasterio.Env(**options):
            return fn()

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(in_env, first), pool.submit(in_env, second)
        return a.result(), b.result()


MAX_THREADS = 4
"""Threads one pair's analysis uses at most by default (I/O saturates beyond)."""


def cores(share: int = 1) -> int:
    """The machine's cores shared out over ``share`` processes, at least 1, at most
    :data:`MAX_THREADS`."""
    return max(1, min((os.cpu_count() or 1) // max(1, share), MAX_THREADS))


def default_workers(share: int = 1) -> int:
    """Threads for one pair's analysis: ``$LANDPATROL_THREADS`` when set (a cluster worker
    that shares its machine with others: :func:`flows.cluster.task_runner` sets it), else
    :func:`cores` (``share``: processes analysing pairs on this machine at once)."""
    from pipeline import settings

    return settings.load().threads or cores(share)


_WINDOW_THREAD = threading.local()


def in_window_thread() -> bool:
    """Whether the calling thread runs windows of :func:`map_windows` beside others: work inside
    it should stay on this thread (its siblings take the other cores)."""
    return bool(getattr(_WINDOW_THREAD, "on", False))


def map_windows(windows: Sequence[Window], before: Any, after: Any, fn: WindowFn[T],
                workers: int) -> Iterator[T]:
    """``fn(before_reader, after_reader, window)`` for each window, yielded in window order.

    With ``workers`` > 1, ``2 * workers`` windows are in flight on as many threads and each
    result is replaced by the next window before it is yielded, so the threads keep
    detecting while the caller writes and cleans up. (A batch at a time, each waited for
    whole, left the threads idle while the caller consumed it: the window pass of a
    Sentinel-2 tile pair ran 1.5x, not 2x, faster on 2 threads than on 1.)"""
    if workers <= 1 or not (hasattr(before, "fork") and hasattr(after, "fork")):
        for win in windows:
            yield fn(before, after, win)
        return
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    import rasterio

    options = gdal_options()  # the caller's GDAL options, in every thread
    local = threading.local()
    forks: list[tuple[Any, Any]] = []
    lock = threading.Lock()

    def task(win: Window) -> T:
        _WINDOW_THREAD.on = True  # the pool's own threads: one window each, side by side
        pair = getattr(local, "pair", None)
        if pair is None:
            pair = local.pair = (before.fork(), after.fork())
            with lock:
                forks.append(pair)
        with rasterio.Env(**options):
            return fn(pair[0], pair[1], win)

    todo = iter(windows)
    pending: deque[Future[T]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="landpatrol-window")
    try:
        for win in todo:
            pending.append(pool.submit(task, win))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(task, nxt))
            yield result
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True)
        for rb, ra in forks:
            rb.close()
            ra.close()
        trim_heap()
