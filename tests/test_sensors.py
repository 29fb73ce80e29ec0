from __future__ import annotations

from datetime import date

import pytest

from pipeline.errors import ConfigError, SensorError
from pipeline.io.dates import date_from_metadata, date_from_name
from pipeline.sensors import PROFILES, band_indexes, band_key, get_profile, guess_sensor


def test_profiles_cover_the_cli_choices_and_roles() -> None:
    assert set(PROFILES) == {"sentinel2", "landsat-tm", "landsat-etm", "landsat-oli", "rgb", "rgbn"}
    for p in PROFILES.values():
        assert set(p.required) <= set(p.bands) and set(p.bands) == set(p.wavelengths)
    assert get_profile("Sentinel-2").name == "sentinel2"
    with pytest.raises(ConfigError, match="unknown sensor"):
        get_profile("modis")


def test_scale_depends_on_dtype() -> None:
    assert get_profile("sentinel2").scale_for("uint16") == 10000
    assert get_profile("landsat-tm").scale_for("uint8") == 255
    assert get_profile("rgb").scale_for("uint8") == 255 and get_profile("rgb").scale_for("uint16") == 65535
    assert get_profile("rgbn").scale_for("float32") == 1.0


def test_band_keys_match_by_number() -> None:
    assert band_key("B04") == band_key("b4") == "B4" and band_key("B8A") == "B8A" != band_key("B08")
    s2 = get_profile("sentinel2")
    assert s2.role_of_token("B8A") is None and s2.role_of_token("B08") == "nir"
    assert get_profile("rgb").role_of_token("red") == "red"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"file_names": ["LT51200382000124BJC00_Nanjing"]}, "landsat-tm"),
        ({"file_names": ["LE71200382001124EDC00.tif"]}, "landsat-etm"),
        ({"file_names": ["LC08_L1TP_120038_20200101_20200110_02_T1_B4.TIF"]}, "landsat-oli"),
        ({"file_names": ["LC91200382022124LGN00.tif"]}, "landsat-oli"),
        ({"file_names": ["T40QBM_20180328T065919_B01.tif"]}, "sentinel2"),
        ({"file_names": ["S2A_OPER_MSI_L1C_TL_MPS__20161130T130757_A007527_T31UDQ_B02.tif"]}, "sentinel2"),
        ({"file_names": ["x_B02.tif", "x_B03.tif", "x_B04.tif", "x_B08.tif"]}, "sentinel2"),
        ({"hints": ["Landsat TM"], "band_count": 6}, "landsat-tm"),
        ({"wavelengths": [0.485, 0.569, 0.66, 0.84, 1.676, 2.223], "band_count": 6}, "landsat-tm"),
        ({"wavelengths": [0.443, 0.482, 0.561, 0.655, 0.865, 1.609, 2.201], "band_count": 7}, "landsat-oli"),
        ({"band_names": ["red", "green", "blue"], "band_count": 3}, "rgb"),
        ({"band_count": 3, "dtype": "uint8"}, "rgb"),
        ({"band_count": 4, "dtype": "uint16"}, "rgbn"),
    ],
)
def test_guess_sensor(kwargs: dict, expected: str) -> None:
    assert guess_sensor(**kwargs).name == expected


def test_guess_sensor_gives_up_clearly() -> None:
    with pytest.raises(SensorError, match="--sensor"):
        guess_sensor(band_count=5, dtype="uint16", source="x.tif")


def test_bands_named_beyond_rgbn_ask_for_the_sensor() -> None:
    """A stack whose bands are named blue ... swir2 is not taken for 4-band rgbn (its swir bands
    would go unused): the sensor is asked for; blue, green, red, nir alone stays rgbn."""
    roles = ["blue", "green", "red", "nir", "swir1", "swir2"]
    with pytest.raises(SensorError, match="--sensor"):
        guess_sensor(band_names=roles, band_count=6, dtype="uint16", source="stack.tif")
    assert guess_sensor(band_names=roles[:4], band_count=4).name == "rgbn"


def test_band_indexes_from_descriptions_stack_and_wavelengths() -> None:
    tm = get_profile("landsat-tm")
    descs = [f"TM Meta (Band {b})" for b in (1, 2, 3, 4, 5, 7)]
    assert band_indexes(tm, 6, descs) == {"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "swir2": 6}
    s2 = get_profile("sentinel2")
    assert band_indexes(s2, 13)["nir"] == 8 and band_indexes(s2, 13)["swir1"] == 12
    assert band_indexes(s2, 4, ["B08", "B04", "B03", "B02"]) == {"blue": 4, "green": 3, "red": 2, "nir": 1}
    # a 4-band file in R, G, B, NIR order with wavelengths: wavelengths win over rgbn's order
    got = band_indexes(get_profile("rgbn"), 4, (), [0.66, 0.56, 0.48, 0.83])
    assert got == {"red": 1, "green": 2, "blue": 3, "nir": 4}


def test_wrong_explicit_sensor_for_band_count() -> None:
    with pytest.raises(SensorError, match=r"6-band raster does not fit sensor sentinel2"):
        band_indexes(get_profile("sentinel2"), 6, source="scene.img")
    with pytest.raises(SensorError, match="rgbn"):
        band_indexes(get_profile("rgbn"), 3, source="photo.tif")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("LT51200382000124BJC00_Nanjing", date(2000, 5, 3)),
        ("LT51200382002193BJC00_Nanjing", date(2002, 7, 12)),
        ("LC08_L1TP_120038_20200101_20200110_02_T1_B4.TIF", date(2020, 1, 1)),
        ("S2A_OPER_MSI_L1C_TL_MTI__20160120T104345_A003020_T39QZG_B02.tif", date(2016, 1, 20)),
        ("T40QBM_20180328T065919_B01.tif", date(2018, 3, 28)),
        ("S2B_MSIL2A_20210615T031539_N0300_R118_T50RPV_20210615T062335.SAFE", date(2021, 6, 15)),
        ("farm_2021-03-04_drone.tif", date(2021, 3, 4)),
        ("gf2_20190917.tif", date(2019, 9, 17)),
        ("uav_2022_08_30_ortho.tif", date(2022, 8, 30)),
    ],
)
def test_date_from_name(name: str, expected: date) -> None:
    got = date_from_name(name)
    assert got is not None and got[0] == expected


def test_no_date_in_name_or_bad_dates() -> None:
    assert date_from_name("scene.tif") is None
    assert date_from_name("x_20191399.tif") is None      # not a real date
    assert date_from_name("id_123456789.tif") is None    # 9 digits: not a date
    assert date_from_name("scene_20211345.tif") is None  # month 13
    assert date_from_name("id_123456789.tif") is None    # 9 digits is not a date
    assert date_from_metadata("2000:05:03 10:11:12") == date(2000, 5, 3)
    assert date_from_metadata("2000-05-03T02:30:00Z") == date(2000, 5, 3)
