"""What the computed cloud mask takes on the nine labelled OSCD cities, at a given resolution.

    python -m lab.clouds_study [--data ../shared/data] [--resolution 60] [--json lab/results/clouds/r60.json]

For each city, both dates' masks (:func:`pipeline.clouds.compute_cloud_mask`, the product's
settings but ``--resolution``) on the pair grid, and the OSCD change map read onto it
(nearest): the share of the city masked per date and in union, the share of labelled change
pixels under the union (change no detector can then claim), and on Paris 2017-11-07 (two
cumulus clouds) the share of visibly white pixels masked (blue, green, red TOA > 0.2 over at
least 5 x 5 px: the test's definition). Seconds are the masks' wall time on this machine.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window
from scipy import ndimage

from pipeline.align import TileReader, pair_grid
from pipeline.clouds import CloudSettings, compute_cloud_mask
from pipeline.evaluate.oscd import labelled_cities
from pipeline.io.tiles import open_tile


def _label_on(grid, city_dir: Path, label: Path) -> np.ndarray:
    b02 = next((city_dir / "imgs_1").glob("*_B02.tif"))
    with rasterio.open(b02) as ref, rasterio.open(label) as lab:
        src, crs, transform = lab.read(1), ref.crs, ref.transform
    out = np.zeros(grid.shape, np.uint8)
    reproject(src, out, src_transform=transform, src_crs=crs, dst_transform=grid.transform,
              dst_crs=grid.crs, resampling=Resampling.nearest)
    return out == 2


def visible_clouds(bands: dict[str, np.ndarray]) -> np.ndarray:
    white = (bands["blue"] > 0.2) & (bands["green"] > 0.2) & (bands["red"] > 0.2)
    return ndimage.binary_opening(white, np.ones((5, 5), bool))


def study(data: Path, settings: CloudSettings) -> dict:
    root = data / "oscd"
    out: dict = {"settings": settings.__dict__, "cities": {}}
    for city in labelled_cities(root):
        d = root / "images" / city
        before, after = open_tile(d / "imgs_1"), open_tile(d / "imgs_2")
        grid = pair_grid(before, after)
        whole = Window(0, 0, grid.width, grid.height)
        t0 = time.perf_counter()
        masks = [compute_cloud_mask(t, grid, settings).window(whole) for t in (before, after)]
        seconds = time.perf_counter() - t0
        change = _label_on(grid, d, root / "labels" / city / "cm" / f"{city}-cm.tif")
        union = masks[0] | masks[1]
        row = {"masked_before": float(masks[0].mean()), "masked_after": float(masks[1].mean()),
               "masked_union": float(union.mean()), "change_px": int(change.sum()),
               "change_hidden": float((union & change).sum() / max(1, change.sum())), "seconds": seconds}
        if city == "paris":
            with TileReader(after, grid, ("blue", "green", "red"), use_cloud=False) as r:
                vis = visible_clouds(r.read(whole)[0])
            row["paris_visible_cloud_px"] = int(vis.sum())
            row["paris_visible_masked"] = float(masks[1][vis].mean())
        out["cities"][city] = row
        print(city, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    rows = out["cities"].values()
    total = sum(r["change_px"] for r in rows)
    out["pooled_change_hidden"] = sum(r["change_hidden"] * r["change_px"] for r in rows) / max(1, total)
    print(f"pooled labelled change hidden: {100 * out['pooled_change_hidden']:.2f} %")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--resolution", type=float, default=CloudSettings().resolution_m)
    ap.add_argument("--average", type=float, default=CloudSettings().average_m)
    ap.add_argument("--dilation", type=float, default=CloudSettings().dilation_m)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    result = study(args.data, CloudSettings(resolution_m=args.resolution, average_m=args.average,
                                            dilation_m=args.dilation))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
