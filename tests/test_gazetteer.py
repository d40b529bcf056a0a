"""The offline gazetteer (GeoNames extract shipped with the package)."""

from __future__ import annotations

from pipeline.gazetteer import load_gazetteer


def test_cities_alternate_names_and_countries() -> None:
    g = load_gazetteer()
    kyiv, kiev = g.locate("Kyiv"), g.locate("Kiev")
    assert kyiv is not None and kiev is not None and kyiv.country == kiev.country == "UKR"
    assert (kyiv.latitude, kyiv.longitude) == (kiev.latitude, kiev.longitude)
    paris = g.locate("Paris")
    assert paris is not None and paris.country == "FRA"  # the most populous Paris
    texas = g.locate("Paris", "USA")
    assert texas is not None and texas.country == "USA" and texas.longitude < -80
    malaysia = g.locate("Malaysia")
    assert malaysia is not None and malaysia.kind == "country" and malaysia.country == "MYS"
    assert g.locate("the Netherlands") == g.locate("Netherlands")
    assert g.locate("Xanadu Nowhere") is None


def test_every_country_has_a_point_inside_plausible_bounds() -> None:
    g = load_gazetteer()
    assert len(g.countries) > 190
    for place in g.countries.values():
        assert -90 <= place.latitude <= 90 and -180 <= place.longitude <= 180
