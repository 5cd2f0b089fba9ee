"""Build the offline geocoder's gazetteer from the vendored reference files or a store.

Reference files (the ``reference_dir`` every function takes, ``data/reference``, WGS-84):
admin areas and Beijing's townships (``areas``), township centres, OSM protection targets
and fire/police stations.  From a store: its ``areas``, ``protection_targets``,
``resources`` and ``lines`` (road lines when a road network has been loaded), with the
vendored township centres used where they fall inside the store's township polygons.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd

from geo.capabilities.cache import Cache
from geo.errors import Conflict
from geo.files.reference import FILES, read_reference, read_reference_file
from geo.geocoder import Gazetteer, Geocoder, GeocodeResult, OnlineProvider
from geo.stores.protocol import Store

#: Stored kinds whose named points are places the geocoder can match.
POI_KINDS: tuple[str, ...] = ("protection_targets", "resources")
#: Every stored kind a gazetteer built from a store reads.
GAZETTEER_KINDS: tuple[str, ...] = ("areas", *POI_KINDS, "lines")


def build_gazetteer(reference_dir: Path, *, store: Store | None = None) -> Gazetteer:
    """A :class:`Gazetteer` from the reference files in ``reference_dir``
    (``data/reference``), or from ``store`` when given.

    Raises FileNotFoundError when the reference files are missing, and ValueError when
    the store holds no areas (run ``riskmap reference load`` first).
    """
    folder = Path(reference_dir)
    centres = _township_centres(folder)
    if store is None:
        if not (folder / FILES["areas_admin"]).exists():
            raise FileNotFoundError(f"reference geography not found in {folder} (riskmap reference build)")
        areas = read_reference("areas", folder)
        pois = [read_reference(kind, folder) for kind in POI_KINDS]
        return Gazetteer.from_frames(areas, township_centres=centres, pois=pois)
    areas = store.read("areas", where={"area_type": ["province", "city", "district", "township"]})
    if areas.empty:
        raise Conflict(f"the {store.kind} store holds no areas: run `riskmap reference load` first")
    pois = [store.read(kind) for kind in POI_KINDS]
    lines = store.read("lines")
    return Gazetteer.from_frames(areas, township_centres=centres, pois=pois, roads=lines)


def load_geocoder(
    reference_dir: Path,
    *,
    store: Store | None = None,
    online: OnlineProvider | None = None,
    cache_size: int = 100_000,
) -> Geocoder:
    """A ready :class:`Geocoder` (see :func:`build_gazetteer` for the sources).

    ``online``: an optional provider from :func:`geo.files.online_geocoder.make_online_provider`,
    off unless given.
    """
    return Geocoder(build_gazetteer(reference_dir, store=store), cache_size=cache_size, online=online)


def store_geocoder(store: Store, reference_dir: Path, *, cache: Cache) -> Geocoder:
    """The geocoder over ``store`` (see :func:`build_gazetteer`), kept in ``cache`` until
    one of :data:`GAZETTEER_KINDS` changes.  Raises ValueError when the store holds no areas."""
    versions = store.data_versions(GAZETTEER_KINDS)
    geocoder: Geocoder = cache.get("geocoder", versions, str(reference_dir),
                                   lambda: load_geocoder(reference_dir, store=store))
    return geocoder


def _township_centres(folder: Path) -> gpd.GeoDataFrame | None:
    if not (folder / FILES["township_centres"]).exists():
        return None
    return read_reference_file("township_centres", folder)


class LazyGeocoder:
    """The offline geocoder, built on first use (only files with address-only rows pay for it).

    Built from the store's areas and points when it holds them, else from the vendored
    reference files in ``reference_dir``.
    """

    def __init__(self, store: Store | None, reference_dir: Path) -> None:
        self.store = store
        self.reference_dir = reference_dir
        self._geocoder: Geocoder | None = None

    def _get(self) -> Geocoder:
        if self._geocoder is None:
            try:
                self._geocoder = load_geocoder(self.reference_dir, store=self.store)
            except ValueError:  # the store holds no areas yet: use the vendored files
                self._geocoder = load_geocoder(self.reference_dir)
        return self._geocoder

    def geocode(self, address: str) -> GeocodeResult:
        return self._get().geocode(address)

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        return list(self._get().geocode_many(addresses))
