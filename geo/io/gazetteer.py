"""Build the offline geocoder's gazetteer from the vendored reference files or a store.

Reference files (``data/reference``, WGS-84): admin areas and Beijing's townships
(``areas``), township centres, OSM protection targets and fire/police stations.  From
a store: its ``areas``, ``protection_targets``, ``resources`` and ``lines`` (road lines
when a road network has been loaded), with the vendored township centres used where
they fall inside the store's township polygons.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.geocoder import Gazetteer, Geocoder, OnlineProvider
from geo.io.reference_files import DEFAULT_REFERENCE_DIR, FILES, read_reference, read_reference_file
from geo.io.store import Store

#: Stored kinds whose named points are places the geocoder can match.
POI_KINDS: tuple[str, ...] = ("protection_targets", "resources")


def reference_dir(data_dir: Path | None) -> Path:
    """The folder holding the reference files: ``data_dir`` itself, or its ``reference``
    sub-folder when ``data_dir`` is the project's ``data/`` folder."""
    if data_dir is None:
        return DEFAULT_REFERENCE_DIR
    if not (data_dir / FILES["areas_admin"]).exists() and (data_dir / "reference" / FILES["areas_admin"]).exists():
        return data_dir / "reference"
    return data_dir


def build_gazetteer(data_dir: Path | None = None, *, store: Store | None = None) -> Gazetteer:
    """A :class:`Gazetteer` from the reference files in ``data_dir`` (default
    ``data/reference``; ``data/`` also works), or from ``store`` when given.

    Raises FileNotFoundError when the reference files are missing, and ValueError when
    the store holds no areas (run ``riskmap reference load`` first).
    """
    folder = reference_dir(data_dir)
    centres = _township_centres(folder)
    if store is None:
        if not (folder / FILES["areas_admin"]).exists():
            raise FileNotFoundError(f"reference geography not found in {folder} (riskmap reference build)")
        areas = read_reference("areas", folder)
        pois = [read_reference(kind, folder) for kind in POI_KINDS]
        return Gazetteer.from_frames(areas, township_centres=centres, pois=pois)
    areas = store.read("areas", where={"area_type": ["province", "city", "district", "township"]})
    if areas.empty:
        raise ValueError(f"the {store.kind} store holds no areas: run `riskmap reference load` first")
    pois = [store.read(kind) for kind in POI_KINDS]
    lines = store.read("lines")
    return Gazetteer.from_frames(areas, township_centres=centres, pois=pois, roads=lines)


def load_geocoder(
    data_dir: Path | None = None,
    *,
    store: Store | None = None,
    online: OnlineProvider | None = None,
    cache_size: int = 100_000,
) -> Geocoder:
    """A ready :class:`Geocoder` (see :func:`build_gazetteer` for the sources).

    ``online``: an optional provider from :func:`geo.io.online_geocoder.make_online_provider`,
    off unless given.
    """
    return Geocoder(build_gazetteer(data_dir, store=store), cache_size=cache_size, online=online)


def _township_centres(folder: Path) -> gpd.GeoDataFrame | None:
    if not (folder / FILES["township_centres"]).exists():
        return None
    return read_reference_file("township_centres", folder)
