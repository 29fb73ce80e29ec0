"""What the computed cloud mask costs on a full Sentinel-2 L1C tile pair, against raw decode.

    python benchmarks/bench_clouds.py [--size 10980] [--workdir DIR] [--resolution 60]

Generates (once, cached in ``--workdir``) two Sentinel-2 L1C band folders of the ten bands the
cloud model reads (and B03, which every Sentinel-2 tile needs) (B02, B04, B08 at 10 m, B05, B8A, B11, B12 at 20 m, B01, B09, B10 at 60 m;
``--size`` is the 10 m side), uint16, tiled 512 x 512, deflate, with cumulus-like discs on the
later date; then, each in a fresh process so peak memory is its own:

1. ``decode``: reads every block of the 20 files (the I/O + decompression floor);
2. ``mask``: :func:`pipeline.clouds.pair_masks` on the pair grid, as ``landpatrol run`` does
   (area-average read onto the 60 m grid, s2cloudless' model in two steps, post-processing),
   with the model's predict timed apart; ``--gate 0`` predicts every pixel instead.

Prints both times, their ratio (the number to compare across machines) and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RES = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B08": 10, "B8A": 20, "B09": 60, "B10": 60,
       "B11": 20, "B12": 20}
BASE = {"B01": 1300, "B02": 1000, "B03": 900, "B04": 800, "B05": 1200, "B08": 2600, "B8A": 2800, "B09": 900,
        "B10": 20, "B11": 2000, "B12": 1200}
CLOUD = {"B01": 4500, "B02": 4400, "B03": 4400, "B04": 4500, "B05": 4600, "B08": 5000, "B8A": 5000, "B09": 2000,
         "B10": 300, "B11": 3500, "B12": 2500}


def generate(workdir: Path, size: int) -> tuple[Path, Path]:
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    folders = (workdir / f"l1c_{size}_before" / "", workdir / f"l1c_{size}_after" / "")
    stamps = ("T50RPV_20240301T030541", "T50RPV_20240601T030541")
    done = [f / ".complete" for f in folders]
    if all(d.is_file() for d in done):
        return folders[0], folders[1]
    rng = np.random.default_rng(7)
    bank = rng.normal(0, 0.06, (6, 1024, 1024)).astype(np.float32)  # relative texture
    clouds = rng.uniform(0, size * 10, (40, 2))  # centres in metres, after date only
    for k, (folder, stamp) in enumerate(zip(folders, stamps)):
        folder.mkdir(parents=True, exist_ok=True)
        for band, res in RES.items():
            n = size * 10 // res
            profile = dict(driver="GTiff", width=n, height=n, count=1, dtype="uint16", crs="EPSG:32650",
                           transform=Affine(res, 0, 600000.0, 0, -res, 3600000.0), tiled=True,
                           blockxsize=512, blockysize=512, compress="deflate", zlevel=1,
                           num_threads="ALL_CPUS", BIGTIFF="YES")
            with rasterio.open(folder / f"{stamp}_{band}.tif", "w", **profile) as ds:
                step = 1024
                for r in range(0, n, step):
                    for c in range(0, n, step):
                        h, w = min(step, n - r), min(step, n - c)
                        tex = bank[rng.integers(0, 6), :h, :w]
                        v = BASE[band] * (1 + tex)
                        if k == 1:
                            yy, xx = (np.mgrid[r:r + h, c:c + w] + 0.5) * res
                            for cy, cx in clouds:
                                disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= 600.0 ** 2
                                v[disc] = CLOUD[band]
                        ds.write(np.clip(v, 1, 65535).astype(np.uint16)[None], window=Window(c, r, w, h))
        done[k].write_text("ok\n")
    return folders[0], folders[1]


def band_files(folder: Path) -> list[Path]:
    """The cloud model's ten band files (B03 is there only because every tile needs green)."""
    from pipeline.sensors import S2_CLOUD_BANDS

    return sorted(p for p in folder.iterdir() if p.suffix == ".tif" and p.stem[-3:] in S2_CLOUD_BANDS)


def run_decode(before: Path, after: Path) -> dict:
    import rasterio

    t0 = time.perf_counter()
    for folder in (before, after):
        for path in band_files(folder):
            with rasterio.open(path) as ds:
                for _, win in ds.block_windows(1):
                    ds.read(1, window=win)
    return {"seconds": time.perf_counter() - t0}


def run_mask(before: Path, after: Path, resolution: float, gate: float) -> dict:
    import models.cloudmask as cm
    from pipeline.align import pair_grid
    from pipeline.clouds import CloudSettings, pair_masks
    from pipeline.io.tiles import open_tile
    from pipeline.parallel import default_workers

    predict = {"seconds": 0.0, "pixels": 0}
    inner = cm.cloud_probability

    def timed(bands: np.ndarray, num_threads: int = 0) -> np.ndarray:
        t = time.perf_counter()
        out = inner(bands, num_threads)
        predict["seconds"] += time.perf_counter() - t
        predict["pixels"] += len(bands)
        return out

    cm.cloud_probability = timed
    cm._booster()  # loading the model (about a second) is not part of a window's cost
    t0 = time.perf_counter()
    b, a = open_tile(before), open_tile(after)
    grid = pair_grid(b, a)
    mb, ma = pair_masks(b, a, grid, CloudSettings(resolution_m=resolution, gate=gate),
                        num_threads=default_workers())
    assert mb is not None and ma is not None
    return {"seconds": time.perf_counter() - t0, "predict_seconds": predict["seconds"],
            "coarse_pixels": predict["pixels"], "grid_pixels": grid.width * grid.height,
            "cloudy_after": float(ma.cloudy.mean()), "cloudy_before": float(mb.cloudy.mean()),
            "threads": default_workers()}


def child(argv: list[str]) -> None:
    kind, before, after, resolution, gate = argv
    out = (run_decode(Path(before), Path(after)) if kind == "decode"
           else run_mask(Path(before), Path(after), float(resolution), float(gate)))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/landpatrol-bench"))
    ap.add_argument("--resolution", type=float, default=60.0)
    ap.add_argument("--gate", type=float, default=None,
                    help="two-step predict gate (default: the product's; 0: predict every pixel)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from pipeline.clouds import CloudSettings

    gate = CloudSettings().gate if args.gate is None else args.gate
    t0 = time.perf_counter()
    before, after = generate(args.workdir, args.size)
    print(f"pair: two L1C folders, 10 bands, {args.size} px at 10 m (generated/cached in "
          f"{time.perf_counter() - t0:.0f} s)", flush=True)
    results: dict = {"size": args.size, "resolution_m": args.resolution, "gate": gate}
    for kind in ("decode", "mask"):
        load = os.getloadavg()[0]
        proc = subprocess.run([sys.executable, __file__, "--child", kind, str(before), str(after),
                               str(args.resolution), str(gate)], capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            sys.exit(f"{kind} failed:\n{proc.stderr[-3000:]}")
        r = results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        r["load_before"] = load
        print(f"{kind:7s} {r['seconds']:7.1f} s  peak RSS {r['peak_rss_mb']:,.0f} MB  (load avg {load:.2f})", flush=True)
    m = results["mask"]
    results["ratio"] = m["seconds"] / results["decode"]["seconds"]
    print(f"mask / decode time ratio: {results['ratio']:.2f}x; predict {m['predict_seconds']:.1f} s on "
          f"{m['coarse_pixels']:,} coarse pixels ({m['threads']} threads); cloudy after "
          f"{100 * m['cloudy_after']:.1f} %, before {100 * m['cloudy_before']:.1f} %; uptime load "
          f"{os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
