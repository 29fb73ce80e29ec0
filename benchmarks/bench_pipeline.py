"""Pipeline throughput on a full Sentinel-2-tile-sized pair, against raw decode of the same files.

    python benchmarks/bench_pipeline.py [--size 10980] [--pixel 10] [--workdir DIR] [--block PX] [--bands 3|4|6] [--detector cva] [--run] [--trace] [--json OUT]

Generates (once, cached in ``--workdir``) a pair of 4-band (``--bands 3``: true colour; ``--bands 6``: Sentinel-2-like, with swir) uint16 GeoTIFFs, tiled 512 x 512,
deflate, at 10 m in UTM, with a few hundred planted changes; then, each in a fresh process so
peak memory is its own:

1. ``decode``: reads every block of both files (the I/O + decompression floor);
2. ``pipeline``: plan + analyse (alignment, detection, clean-up, vectorising, screening against
   a zones layer), i.e. everything ``landpatrol run`` does but the ledger write;
3. with ``--run``, ``run``: ``landpatrol run`` end to end (a SQLite ledger and ``--out``: the
   run folder with its web COGs, overlays, quicklook and chips).

Prints megapixels per second (pixels of the grid, one pair = one pixel) for both, their ratio,
and peak resident memory. Numbers are for the machine it runs on; compare ratios.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


BANDS = {3: ("blue", "green", "red"), 4: ("blue", "green", "red", "nir"),
         6: ("blue", "green", "red", "nir", "swir1", "swir2")}
"""Band sets of the generated pair: 3 (true colour; ``auto`` takes ``irmad`` at 5-15 m, v4.5),
4 (blue, green, red, nir; ``cva:ki`` at 5-15 m, v4.4) or 6 (Sentinel-2-like, nir and swir;
``cva``). At ``--pixel`` finer than 5 m the 3- and 4-band pairs take ``gbm`` (v4.5)."""


X0, Y0 = 600000.0, 3600000.0


def write_zones(path: Path, size: int, pixel: float) -> None:
    """64 level-1..3 farmland zones over the top-left quarter of the pair's ground."""
    import geopandas as gpd
    from shapely.geometry import box

    half = size * pixel / 2
    cells = [box(X0 + i * half / 4, Y0 - (j + 1) * half / 4, X0 + (i + 1) * half / 4, Y0 - j * half / 4)
             for i in range(8) for j in range(8)]
    gpd.GeoDataFrame({"zone_id": [f"Z{i}" for i in range(len(cells))],
                      "zone_type": ["permanent_basic_farmland"] * len(cells),
                      "level": [1 + i % 3 for i in range(len(cells))]},
                     geometry=cells, crs="EPSG:32650").to_file(path, driver="GPKG")


def generate(workdir: Path, size: int, bands: int = 4, pixel: float = 10.0) -> tuple[Path, Path, Path]:
    """The pair (cached); ``pixel`` other than 10 m: the 10 m pair's pixels on a finer or coarser
    grid (a copy with its geotransform rewritten: a Gaofen-2-like 4-band pair at 1 m)."""
    import shutil

    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    tag = f"{size}" if bands == 4 else f"{size}x{bands}"
    if pixel != 10.0:
        src = generate(workdir, size, bands)
        out = (workdir / f"B_{tag}_{pixel:g}m_2024-03-01.tif", workdir / f"A_{tag}_{pixel:g}m_2024-06-01.tif",
               workdir / f"zones_{size}_{pixel:g}m.gpkg")
        if not all(p.exists() for p in out):
            for s_path, d_path in zip(src[:2], out[:2]):
                shutil.copyfile(s_path, d_path)
                with rasterio.open(d_path, "r+") as ds:
                    ds.transform = Affine(pixel, 0, X0, 0, -pixel, Y0)
            write_zones(out[2], size, pixel)
        return out
    before, after, zones = (workdir / f"B_{tag}_2024-03-01.tif", workdir / f"A_{tag}_2024-06-01.tif",
                            workdir / f"zones_{size}.gpkg")
    if before.exists() and after.exists() and zones.exists():
        return before, after, zones
    workdir.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", width=size, height=size, count=bands, dtype="uint16",
                   crs="EPSG:32650", transform=Affine(10, 0, X0, 0, -10, Y0), tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate", nodata=0, BIGTIFF="YES")
    rng = np.random.default_rng(42)
    base = np.array([400, 700, 500, 3500, 2600, 1600][:bands], np.float32)[:, None, None]
    roof = np.array([2500, 2700, 2900, 3000, 3200, 3100][:bands], np.float32)[:, None, None]
    # beyond a Sentinel-2 tile (Gaofen-2 scenes are ~30,000 px) noise comes from a bank of
    # blocks, deflated at level 1, and planted changes keep the S2 tile's density: generating
    # stays minutes, not an hour, on 2 cores
    large = size > 12000
    if large:
        profile.update(zlevel=1, num_threads="ALL_CPUS")
    bank = rng.normal(0, 25, (8, bands, 1024, 1024)).astype(np.float32) if large else None
    changes = rng.integers(0, size - 40, (max(300, round(300 * (size / 10980) ** 2)) if large else 300, 2))
    step = 1024
    with rasterio.open(before, "w", **profile) as db, rasterio.open(after, "w", **profile) as da:
        for r in range(0, size, step):
            for c in range(0, size, step):
                h, w = min(step, size - r), min(step, size - c)
                field = rng.normal(0, 60, (bands, 1, 1)).astype(np.float32)
                if bank is None:
                    noise = rng.normal(0, 25, (bands, h, w)).astype(np.float32)
                    b = base + field + noise
                    a = b * 1.02 + rng.normal(0, 25, (bands, h, w)).astype(np.float32)
                else:
                    k = rng.integers(0, 8, 2)
                    b = base + field + bank[k[0], :, :h, :w]
                    a = b * 1.02 + bank[k[1], :, :h, :w][:, ::-1, ::-1]
                for cr, cc in changes:
                    rr, c2 = cr - r, cc - c
                    if -30 < rr < h and -30 < c2 < w:
                        sl = (slice(None), slice(max(rr, 0), max(rr + 30, 0)),
                              slice(max(c2, 0), max(c2 + 30, 0)))
                        a[sl] = roof
                win = Window(c, r, w, h)
                db.write(np.clip(b, 1, 65535).astype(np.uint16), window=win)
                da.write(np.clip(a, 1, 65535).astype(np.uint16), window=win)
        for ds in (db, da):
            for i, name in enumerate(BANDS[bands], 1):
                ds.set_band_description(i, name)
    write_zones(zones, size, 10.0)
    return before, after, zones


def run_decode(before: Path, after: Path) -> dict:
    import rasterio

    t0 = time.perf_counter()
    pixels = 0
    for path in (before, after):
        with rasterio.open(path) as ds:
            for _, win in ds.block_windows(1):
                ds.read(window=win)
            pixels = ds.width * ds.height
    return {"seconds": time.perf_counter() - t0, "pixels": pixels}


def _sensor(path: Path) -> str | None:
    """A 6-band pair is read as Sentinel-2 (a 6-band stack without a sensor hint is refused)."""
    import rasterio

    with rasterio.open(path) as ds:
        return "sentinel2" if ds.count == 6 else None


def run_pipeline(before: Path, after: Path, zones: Path, workdir: Path, block: int, detector: str) -> dict:
    from pipeline.runner import PairRequest, analyse_pair, plan_pair

    t0 = time.perf_counter()
    plan = plan_pair(PairRequest(before=before, after=after, zones=zones, block_size=block or None, detector=detector,
                                 sensor=_sensor(before)))
    analysis = analyse_pair(plan, workdir / "work")
    return {"seconds": time.perf_counter() - t0, "pixels": plan.grid.width * plan.grid.height,
            "patches": len(analysis.detection.patches), "leads": len(analysis.leads)}


def run_full(before: Path, after: Path, zones: Path, workdir: Path, block: int, detector: str) -> dict:
    """``landpatrol run`` end to end: plan, analyse, one ledger transaction (SQLite), run folder."""
    import shutil

    from pipeline.runner import PairRequest, run_pair

    target = workdir / "run"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    t0 = time.perf_counter()
    report = run_pair(PairRequest(before=before, after=after, zones=zones, block_size=block or None, detector=detector,
                                  sensor=_sensor(before),
                                  ledger_url=f"sqlite:///{target / 'ledger.db'}", out_dir=target / "out"))
    seconds = time.perf_counter() - t0
    import rasterio

    with rasterio.open(before) as ds:
        pixels = ds.width * ds.height
    return {"seconds": seconds, "pixels": pixels, "patches": report.patches, "leads": len(report.leads)}


class Trace:
    """Resident memory sampled every 50 ms, charged to the innermost pipeline step running.

    Wraps a few module-level functions of the pipeline (looked up at call time, so wrapping
    the module attribute is enough); reports each step's calls, seconds and peak RSS."""

    STEPS = [("pipeline.planning", "plan_pair"), ("pipeline.clouds", "pair_masks"),
             ("pipeline.align", "check_pair_valid"), ("pipeline.detect", "fit_scene"),
             ("pipeline.detect", "_detect_windows"), ("pipeline.stitch", "Stitcher.finish"),
             ("pipeline.detect", "patch_frame"), ("rasterio.shutil", "copy"),
             ("pipeline.clouds", "cloud_loss"), ("pipeline.screening", "screen_patches"),
             ("pipeline.commit", "commit_window"), ("pipeline.outputs", "stage_outputs"),
             ("pipeline.outputs", "write_imagery"), ("pipeline.outputs", "_quicklook_samples"),
             ("pipeline.io.classraster", "write_class_cog"), ("pipeline.outputs", "publish_outputs"),
             ("pipeline.outputs", "write_evidence"), ("pipeline.web_layers", "write_true_colour"),
             ("pipeline.ledger.store", "Ledger.record_runs")]

    def __init__(self) -> None:
        import threading

        self.stack: list[str] = ["other"]
        self.peak: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            step = self.stack[-1]
            self.peak[step] = max(self.peak.get(step, 0.0), self.rss_mb())

    def install(self) -> None:
        import functools
        import importlib

        for module, name in self.STEPS:
            mod = importlib.import_module(module)
            owner, attr = (getattr(mod, name.split(".")[0]), name.split(".")[1]) if "." in name else (mod, name)
            fn = getattr(owner, attr)

            def wrapped(*a, __fn=fn, __step=name, **kw):
                self.stack.append(__step)
                t0 = time.perf_counter()
                try:
                    return __fn(*a, **kw)
                finally:
                    self.seconds[__step] = self.seconds.get(__step, 0.0) + time.perf_counter() - t0
                    self.calls[__step] = self.calls.get(__step, 0) + 1
                    self.stack.pop()

            setattr(owner, attr, functools.wraps(fn)(wrapped))
        self._thread.start()

    def report(self) -> dict:
        self._stop.set()
        rows = {step: {"calls": self.calls.get(step, 0), "seconds": round(self.seconds.get(step, 0.0), 2),
                       "peak_rss_mb": round(self.peak.get(step, 0.0))}
                for step in [*self.peak, *(s for s in self.calls if s not in self.peak)]}
        return rows


def child(argv: list[str]) -> None:
    trace = None
    if argv and argv[0] == "--trace":
        trace, argv = Trace(), argv[1:]
        trace.install()
    kind, before, after, zones, workdir, block, detector = argv
    if kind == "decode":
        out = run_decode(Path(before), Path(after))
    elif kind == "run":
        out = run_full(Path(before), Path(after), Path(zones), Path(workdir), int(block), detector)
    else:
        out = run_pipeline(Path(before), Path(after), Path(zones), Path(workdir), int(block), detector)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if trace is not None:
        out["steps"] = trace.report()
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/landpatrol-bench"))
    ap.add_argument("--pixel", type=float, default=10.0,
                    help="pixel size in metres (default 10; e.g. 1 for a Gaofen-2-like 4-band pair, which `auto` gives gbm)")
    ap.add_argument("--block", type=int, default=0, help="window side (default: the detector's own)")
    ap.add_argument("--bands", type=int, choices=sorted(BANDS), default=4,
                    help="3 (true colour), 4 (blue, green, red, nir) or 6 (Sentinel-2-like, with swir1 and swir2)")
    ap.add_argument("--detector", default="cva", help="cva (the reference of every recorded run), gbm, auto, ...")
    ap.add_argument("--run", action="store_true",
                    help="also time `landpatrol run` end to end (ledger write and run folder: web COGs, "
                         "quicklook, chips)")
    ap.add_argument("--trace", action="store_true",
                    help="sample resident memory every 50 ms and print each pipeline step's time and peak RSS")
    ap.add_argument("--only", choices=("decode", "pipeline", "run"), action="append",
                    help="run only these steps (repeatable; default: decode, pipeline and, with --run, run)")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    before, after, zones = generate(args.workdir, args.size, args.bands, args.pixel)
    print(f"pair: {args.size} x {args.size} x {args.bands} bands uint16 (generated/cached in "
          f"{time.perf_counter() - t0:.0f} s)", flush=True)
    results = {}
    kinds = args.only or ["decode", "pipeline", *(["run"] if args.run else [])]
    for kind in kinds:
        proc = subprocess.run([sys.executable, __file__, "--child", *(["--trace"] if args.trace else []), kind, str(before), str(after),
                               str(zones), str(args.workdir), str(args.block), args.detector],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            sys.exit(f"{kind} failed:\n{proc.stderr[-3000:]}")
        results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[kind]
        print(f"{kind:9s} {r['pixels'] / r['seconds'] / 1e6:8.2f} MP/s  {r['seconds']:7.1f} s  "
              f"peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
        for step, row in r.get("steps", {}).items():
            print(f"    {step:18s} {row['calls']:3d} calls {row['seconds']:7.1f} s  peak RSS "
                  f"{row['peak_rss_mb']:6,d} MB", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"size": args.size, "bands": args.bands, "detector": args.detector,
                                         **results}, indent=1))
    for kind in results:
        if kind != "decode" and "decode" in results:
            ratio = results[kind]["seconds"] / results["decode"]["seconds"]
            print(f"{kind} / decode time ratio: {ratio:.1f}x; patches {results[kind]['patches']}, "
                  f"leads {results[kind]['leads']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
