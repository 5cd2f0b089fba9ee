"""Search by unit name, credit code or address: the map's search box.

Names and codes are looked up in the store (``Store.search``); an address goes to
the offline geocoder passed in (the context's, :meth:`geo.capabilities.context.Context.geocoder`),
whose answer always states its precision.
"""

from __future__ import annotations

from typing import Any

from geo.geocoder import Geocoder
from geo.scope import Scope, scoped_where
from geo.stores.frames import python_value
from geo.stores.protocol import Store

#: (kind, columns searched, columns shown), in the order results are listed.
SEARCHABLE: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("units", ("name", "credit_code", "address"), ("name", "credit_code", "district")),
    ("hazchem_sites", ("name", "credit_code"), ("name", "site_type", "district")),
    ("risk_sources", ("unit_name", "name", "credit_code"), ("name", "unit_name", "level")),
    ("resources", ("name",), ("name", "resource_type", "district")),
    ("protection_targets", ("name",), ("name", "target_type", "district")),
    ("areas", ("name", "area_code"), ("name", "area_type")),
)


def search_features(store: Store, text: str, *, limit: int = 10, geocoder: Geocoder | None = None,
                    scope: Scope | None = None) -> list[dict[str, Any]]:
    """Matches of ``text`` across the searchable kinds, then ``geocoder``'s reading of it (when given).

    ``scope``: units, sites and risk sources (and the resources it filters) only in scope;
    an address is always read (the geocoder's places are reference geography).
    """
    results: list[dict[str, Any]] = []
    for kind, columns, shown in SEARCHABLE:
        if len(results) >= limit:
            break
        hits = store.search(kind, text, columns=columns, limit=limit - len(results),
                            where=scoped_where(scope, kind))
        for i, row in hits.iterrows():
            point = hits.geometry.iloc[i].representative_point()
            results.append({
                "kind": kind, "key": row["key"], "lon": round(point.x, 7), "lat": round(point.y, 7),
                **{c: python_value(row[c]) for c in shown}, "precision": "feature",
                "synthetic": python_value(row["synthetic"]),
            })
    if geocoder is not None:
        found = geocoder.geocode(text)
        if found.lon is not None:
            results.append({"kind": "address", "key": f"address:{text}", "name": text, "lon": found.lon,
                            "lat": found.lat, "precision": found.precision, "confidence": found.confidence,
                            "matched": found.matched})
    return results
