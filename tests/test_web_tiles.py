"""Full-resolution XYZ tiles of a Sentinel-2-sized run (10,980 px a side at 10 m), behind the
app's sign-in and confined to each user's responsibility zones; outline layers; basemap."""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rio_tiler")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.testing import ORIGIN  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402

S2_PX, RES = 10_980, 10.0
LEFT, TOP = ORIGIN[0] - 50_000.0, ORIGIN[1] + 50_000.0  # zones A and B lie well inside
DATA = (4_900, 4_700, 1_000, 400)  # col, row, width, height of the pixels written (both zones)


def _write(path: Path, bands: list[np.ndarray], dtype: str, nodata: float | None,
           scale: float = 1.0) -> None:
    """A tiled GeoTIFF with internal overviews over the whole S2 extent; only the window
    around the zones is written (sparse elsewhere), so the fixture stays fast."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = dict(driver="GTiff", width=S2_PX, height=S2_PX, count=len(bands), dtype=dtype,
                   crs="EPSG:32650", transform=from_origin(LEFT, TOP, RES, RES), tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate", sparse_ok=True, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack(bands).astype(dtype), window=Window(*DATA))
        dst.scales = (scale,) * len(bands)
        dst.build_overviews([2, 4, 8, 16, 32, 64], Resampling.nearest)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("tiles")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    seed(url)
    run = tmp / "runs" / "20240401_20240501_s2sized0"
    run.mkdir(parents=True)
    c0, r0, w, h = DATA
    cols = np.broadcast_to(np.arange(c0, c0 + w) % 250 + 1, (h, w))
    rows = np.broadcast_to((np.arange(r0, r0 + h) % 250 + 1)[:, None], (h, w))
    _write(run / "before.tif", [cols, rows, np.full((h, w), 60)], "uint8", 0)
    _write(run / "after.tif", [cols, rows, np.full((h, w), 200)], "uint8", 0)
    # the score as runs store it (pipeline.io.scoreraster): 0.8 = 200 steps of 1/250
    _write(run / "score.tif", [np.full((h, w), 200)], "uint8", 255, scale=1 / 250)
    # and as runs before 2026-12-02 did: float32, nodata -1
    _write(tmp / "score-float32.tif", [np.full((h, w), 0.8)], "float32", -1.0)
    (run / "layers").mkdir()
    (run / "layers" / "zones.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"zone_id": "far"},'
        ' "geometry": {"type": "Point", "coordinates": [100.0, 20.0]}}]}')
    app = create_app(url, secret="t" * 32, runs_dir=tmp / "runs",
                     basemap_url="http://gis.bureau.local/tiles/{z}/{x}/{y}.png")
    with Ledger.open(url) as led:
        zones = {z["code"]: z["geometry"] for z in led.patrol_zones()}
    return {"app": app, "run": run.name, "zones": zones, "folder": run, "tmp": tmp}


def login(app: object, name: str) -> TestClient:
    c = TestClient(app)
    c.get("/login")
    c.post("/login", data={"username": name, "password": PASSWORD,
                           "csrf_token": c.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    return c


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def rgba(resp: object) -> np.ndarray:
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png", resp.status_code
    return np.asarray(Image.open(io.BytesIO(resp.content)).convert("RGBA"))


def test_tiles_are_full_resolution(world: dict) -> None:
    ana = login(world["app"], "ana")
    (info,) = ana.get("/tiles.json").json()
    assert info["layers"] == ["before", "after", "score"] and info["maxzoom"] >= 14
    z = info["maxzoom"]
    c = world["zones"]["ZA"].centroid
    x, y = tile_of(c.x, c.y, z)
    url = f"/tiles/{world['run']}/before/{z}/{x}/{y}.png"
    img = rgba(ana.get(url))
    assert img.shape == (256, 256, 4) and (img[..., 3] == 255).all()
    # band 1 holds the source column: a 256 px tile at full resolution spans ~200 source
    # columns (a 1600 px picture of the scene would give about 30 here)
    assert len(np.unique(img[128, :, 0])) > 150
    assert (img[..., 2] == 60).all()  # before, not after
    assert (rgba(ana.get(url.replace("/before/", "/after/")))[..., 2] == 200).all()
    score = rgba(ana.get(url.replace("/before/", "/score/")))
    assert (score[..., 3] == 255).all() and len(np.unique(score[..., :3].reshape(-1, 3), axis=0)) == 1
    low = rgba(ana.get(f"/tiles/{world['run']}/before/8/{tile_of(c.x, c.y, 8)[0]}/{tile_of(c.x, c.y, 8)[1]}.png"))
    assert (low[..., 3] == 255).any()  # the overviews serve the zoomed-out view


def test_tiles_stay_within_each_users_zones(world: dict) -> None:
    app, run, zones = world["app"], world["run"], world["zones"]
    z = 15
    a, b = zones["ZA"].centroid, zones["ZB"].centroid
    in_a, in_b = tile_of(a.x, a.y, z), tile_of(b.x, b.y, z)
    pat, bea, ana = login(app, "pat"), login(app, "bea"), login(app, "ana")
    for client, ok, refused in ((pat, in_a, in_b), (bea, in_b, in_a)):
        assert rgba(client.get(f"/tiles/{run}/after/{z}/{ok[0]}/{ok[1]}.png"))[..., 3].all()
        assert client.get(f"/tiles/{run}/after/{z}/{refused[0]}/{refused[1]}.png").status_code == 404
        assert client.get(f"/tiles/{run}/score/{z}/{refused[0]}/{refused[1]}.png").status_code == 404
    assert rgba(ana.get(f"/tiles/{run}/after/{z}/{in_b[0]}/{in_b[1]}.png"))[..., 3].all()
    # a tile across zone A's west edge: outside the zone transparent for pat, shown to the analyst
    west = zones["ZA"].bounds[0]
    edge = tile_of(west, a.y, z)
    mine = rgba(pat.get(f"/tiles/{run}/after/{z}/{edge[0]}/{edge[1]}.png"))[..., 3]
    everything = rgba(ana.get(f"/tiles/{run}/after/{z}/{edge[0]}/{edge[1]}.png"))[..., 3]
    assert everything.all() and 0 < (mine > 0).sum() < mine.size
    # signed out: no imagery; nothing outside run folders
    anon = TestClient(app)
    assert anon.get(f"/tiles/{run}/after/{z}/{in_a[0]}/{in_a[1]}.png", follow_redirects=False).status_code == 303
    assert ana.get(f"/tiles/..%2F{run}/after/{z}/{in_a[0]}/{in_a[1]}.png").status_code == 404
    assert ana.get(f"/tiles/{run}/quicklook/{z}/{in_a[0]}/{in_a[1]}.png").status_code == 404


def test_outline_layers_and_basemap(world: dict) -> None:
    app = world["app"]
    mine = login(app, "pat").get("/layers.json").json()
    assert [f["properties"]["code"] for f in mine["patrol_zones"]["features"]] == ["ZA"]
    assert mine["zones"]["features"] == []  # the far-away zone touches none of pat's
    everything = login(app, "ana").get("/layers.json").json()
    assert len(everything["patrol_zones"]["features"]) == 2 and len(everything["zones"]["features"]) == 1
    page = login(app, "ana").get("/").text
    assert 'data-basemap="http://gis.bureau.local/tiles/{z}/{x}/{y}.png"' in page


def test_no_basemap_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.web.layers import BASEMAP_ENV, basemap_url

    monkeypatch.delenv(BASEMAP_ENV, raising=False)
    assert basemap_url(None) is None and basemap_url("not a template") is None
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    seed(url)
    page = login(create_app(url, secret="t" * 32), "ana").get("/").text
    assert 'data-basemap=""' in page


def test_stored_steps_and_float_scores_render_alike(world: dict) -> None:
    """The score layer reads the file's scale: a uint8 run and a float32 one of the same score
    give the same tile."""
    from pipeline.web.tiles import render_tile

    c = world["zones"]["ZA"].centroid
    x, y = tile_of(c.x, c.y, 14)
    stored = render_tile(world["folder"] / "score.tif", "score", 14, x, y, None)
    legacy = render_tile(world["tmp"] / "score-float32.tif", "score", 14, x, y, None)
    assert stored is not None and legacy is not None
    a = np.asarray(Image.open(io.BytesIO(stored)).convert("RGBA"))
    b = np.asarray(Image.open(io.BytesIO(legacy)).convert("RGBA"))
    assert np.array_equal(a, b) and (a[..., 3] == 255).all()
