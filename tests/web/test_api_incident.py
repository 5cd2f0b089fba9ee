"""The commander's API (nearest, incident, search, statistics, coverage) on a small store of each kind."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from pyproj import Geod


def test_nearest_ranks_by_true_distance_with_eta(client: FlaskClient) -> None:
    body = client.get("/api/v1/nearest?lon=116.40&lat=39.90&types=fire_station&k=2").get_json()
    stations = body["resources"]["fire_station"]
    assert [s["name"] for s in stations] == ["东单消防站", "崇文消防站"]
    _, _, d = Geod(ellps="WGS84").inv(116.40, 39.90, 116.41, 39.91)
    assert stations[0]["distance_m"] == pytest.approx(d, abs=0.01)
    assert stations[0]["eta_min"] == pytest.approx(round(d * 1.4 / (40_000 / 60), 1))
    assert body["travel"] == {"speed_kmh": 40.0, "detour_factor": 1.4}


def test_incident_report_counts_and_lists(client: FlaskClient) -> None:
    body = client.get("/api/v1/incident?lon=116.40&lat=39.90&radius=2000").get_json()
    assert body["risk_sources"]["count"] == 2
    assert body["risk_sources"]["by_level"] == {"red": 1, "orange": 0, "yellow": 0, "blue": 1}
    assert body["resources"]["team"][0]["name"] == "危化救援队"
    assert set(body["resources"]) >= {"fire_station", "team", "expert", "shelter"}


def test_search_by_name_and_credit_code(client: FlaskClient) -> None:
    results = client.get("/api/v1/search?q=液氨").get_json()["results"]
    assert results[0]["name"] == "液氨储罐" and results[0]["kind"] == "risk_sources"
    assert client.get("/api/v1/search?q=").status_code == 400


def test_district_statistics(client: FlaskClient) -> None:
    body = client.get("/api/v1/stats/districts").get_json()
    (dongcheng,) = body["districts"]
    assert dongcheng["risk_sources"] == {"red": 1, "orange": 0, "yellow": 0, "blue": 1}
    assert dongcheng["resources"]["fire_station"] == 2


def test_coverage_gap_summary(client: FlaskClient) -> None:
    body = client.get("/api/v1/coverage?minutes=5").get_json()
    s = body["summary"]
    assert s["stations"] == 2
    assert 0 < s["uncovered_km2"] < s["total_km2"]
    assert 0 < s["uncovered_population"] < s["total_population"] == pytest.approx(21_893_095, rel=1e-6)
    assert body["uncovered"]["features"]


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("/api/v1/nearest?lon=abc&lat=39.9", "'lon'"),
        ("/api/v1/nearest?lon=116.4&lat=39.9&types=boat", "boat"),
        ("/api/v1/nearest?lon=116.4&lat=39.9&k=0", "'k'"),
        ("/api/v1/incident?lon=116.4&lat=39.9&radius=-5", "'radius'"),
        ("/api/v1/incident?lon=116.4&lat=99", "'lat'"),
        ("/api/v1/coverage?minutes=0", "'minutes'"),
    ],
)
def test_bad_parameters_are_named(client: FlaskClient, url: str, fragment: str) -> None:
    r = client.get(url)
    assert r.status_code == 400
    assert fragment in r.get_json()["error"]
