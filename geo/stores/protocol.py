"""The one store interface, implemented by PostGIS and by the embedded GeoPackage.

Both implementations give the same answers: same rows, same order, distances in
metres that agree to 0.01 m, and tiles that decode to the same features.

Conventions shared by every method:

* ``kind`` names an entity of :mod:`geo.entities`; an unknown one raises
  :class:`geo.entities.UnknownEntityError`.
* ``where`` maps a column name to a value or to a list of values (SQL ``IN``);
  ``None`` as a value means ``IS NULL``; the columns are ANDed.  Its key
  :data:`geo.scope.ANY_OF` holds a list of such filters, one of which a row must match
  (an OR, ANDed with the rest: a region scope mixing districts and provinces, or a
  scope with the layers it leaves open); an empty list matches no row.  An unknown
  column raises :class:`geo.entities.UnknownColumnError`.
* Geometries in and out are WGS-84 (EPSG:4326) shapely geometries; returned frames
  are GeoDataFrames with ``crs="EPSG:4326"``, ordered by ``key`` unless stated.
* Distances are true (ellipsoidal) distances in metres, the same in both stores to
  the millimetre: edges cut at 0.001°, then the geodesic between nearest points —
  the embedded store measures in an azimuthal-equidistant projection centred on the
  query (exact from a query point, :func:`geo.distance.distances_m`), PostGIS on
  the spheroid (geography, GeographicLib).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.entities import Entity, get_entity
from geo.errors import BadInput, Unavailable
from geo.stores.accounts import AccountStore
from geo.stores.frames import canonical_where, check_where, prepare_rows
from geo.tiles import check_tile

Where = Mapping[str, Any] | None


@dataclass(frozen=True)
class LoadBatch:
    """Where a batch of rows came from: recorded with every row it writes."""

    kind: str
    file_name: str
    sha256: str
    loaded_at: datetime
    rows: int = 0
    note: str = ""


@dataclass
class UpsertResult:
    """Counts of one upsert, by outcome."""

    batch_id: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def utc_stamp(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunRecord:
    """A computation whose results went into a layer (an area-risk run): when, and with
    which parameters and input data — kept once per run, not on every result row."""

    run_id: str
    kind: str  # the layer its results were written to
    run_at: str  # ISO 8601, UTC
    params: dict[str, Any]

    def params_json(self) -> str:
        return json.dumps(self.params, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_row(cls, run_id: str, kind: str, run_at: str, params: str) -> RunRecord:
        return cls(run_id, kind, run_at, json.loads(params))


@dataclass
class StoreInfo:
    """What ``/api/v1/health`` reports about a store."""

    kind: str  # "postgis" | "geopackage"
    location: str  # URL without password, or file path
    schema_version: str | None
    versions: dict[str, str] = field(default_factory=dict)


class StoreError(Unavailable):
    """A store cannot be reached or used; the message names the setting at fault."""


class DuplicateKeyError(BadInput):
    """A batch handed to ``upsert`` contains the same natural key twice."""

    def __init__(self, kind: str, keys: Sequence[str]) -> None:
        self.kind = kind
        self.keys = list(keys)
        shown = ", ".join(self.keys[:5])
        super().__init__(f"{kind}: duplicate keys in one batch: {shown}")


@dataclass(frozen=True)
class ClusterSpec:
    """How a tile generalises points: square cells of ``cell`` tile units, counted per value.

    Cells are counted once at ``base_zoom`` and nest below it (see
    :func:`geo.tiles.cluster_base_cells`); clustered tiles exist for zooms 0..base_zoom.
    """

    cell: int = 256
    column: str | None = None
    values: tuple[str, ...] = ()
    base_zoom: int = 12

    def __post_init__(self) -> None:
        if self.cell <= 0 or self.cell & (self.cell - 1):
            raise ValueError(f"cluster cell must be a power of two, got {self.cell}")
        if not 0 <= self.base_zoom <= 20:
            raise ValueError(f"cluster base zoom must be in 0..20, got {self.base_zoom}")

    def identity(self, kind: str, where: Where, *, extent: int) -> tuple[str, str]:
        """(id, definition): what a store's kept cell counts are for — the layer, the
        filter, the tile extent and the spec; ``definition`` is JSON, ``id`` a digest."""
        definition = json.dumps({"kind": kind, "cell": self.cell, "base_zoom": self.base_zoom, "extent": extent,
                                 "column": self.column, "values": list(self.values),
                                 "where": canonical_where(where)},
                                sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha1(definition.encode()).hexdigest()[:16], definition

    def check_zoom(self, z: int) -> None:
        """Raise ValueError when tiles of zoom ``z`` cannot be clustered with this spec."""
        if z > self.base_zoom:
            raise ValueError(f"zoom {z} is above the cluster base zoom {self.base_zoom}")


@dataclass(frozen=True)
class TileRequest:
    """A checked :meth:`Store.tile` call: tile ``z``/``x``/``y`` (Web Mercator) of
    ``entity``'s rows matching ``where``, with the attributes ``columns``, as the MVT
    layer ``layer_name`` of ``extent`` tile units drawn ``buffer`` units beyond the
    tile's edge; with ``cluster``, the clusters of its points instead."""

    entity: Entity
    z: int
    x: int
    y: int
    columns: tuple[str, ...]
    where: Where
    layer_name: str
    extent: int
    buffer: int
    cluster: ClusterSpec | None


@runtime_checkable
class Store(AccountStore, Protocol):
    """Operations every capability of the platform is built on (and accounts and the audit
    log: :class:`geo.stores.accounts.AccountStore`).

    The stores subclass it and share what the contract fixes — the checks of a tile
    request and of a batch, the order of an answer — each then doing its own part in
    a ``_method`` (:meth:`_render_tile`, :meth:`_write_rows`, :meth:`_loaded_at`).
    """

    kind: str
    @property
    def read_only(self) -> bool:
        """True when the store can be read but not written (a sealed GeoPackage)."""
        return False

    def init_schema(self) -> None:
        """Create the schema, or upgrade it to the current version (idempotent)."""

    def info(self) -> StoreInfo:
        """Store kind, location and component versions."""

    def data_version(self, kind: str) -> int:
        """A number that changes whenever ``kind``'s rows change (for caches and ETags)."""
        return self.data_versions([kind])[kind]

    def data_versions(self, kinds: Sequence[str]) -> dict[str, int]:
        """:meth:`data_version` of each of ``kinds``, in one round trip."""

    def last_loaded(self, kinds: Sequence[str]) -> dict[str, str | None]:
        """When each layer last received a load batch (its ``loaded_at``, UTC, ISO 8601
        ``YYYY-MM-DDTHH:MM:SSZ``), None if never; in the order asked."""
        for kind in kinds:
            get_entity(kind)
        found = self._loaded_at(kinds) if kinds else {}
        return {kind: utc_stamp(found[kind]) if kind in found else None for kind in kinds}

    def _loaded_at(self, kinds: Sequence[str]) -> dict[str, datetime]:
        """The ``loaded_at`` of each of ``kinds``' latest load batch (layers never loaded left out)."""

    def upsert(self, kind: str, features: gpd.GeoDataFrame, *, batch: LoadBatch) -> UpsertResult:
        """Insert or update rows by natural ``key`` in one transaction.

        ``features`` needs a ``key`` column, the entity's columns (missing ones are
        NULL) and WGS-84 geometries.  Rows whose content hash is unchanged are left
        alone (and keep their earlier batch).  Raises :class:`DuplicateKeyError` if a
        key repeats; on any error nothing is written.
        """
        entity = get_entity(kind)
        rows = prepare_rows(entity, features)
        dupes = rows["key"][rows["key"].duplicated()].unique().tolist()
        if dupes:
            raise DuplicateKeyError(kind, dupes)
        return self._write_rows(entity, rows, batch)

    def _write_rows(self, entity: Entity, rows: gpd.GeoDataFrame, batch: LoadBatch) -> UpsertResult:
        """Write the checked, prepared ``rows`` of ``batch`` (see :meth:`upsert`)."""

    def read(
        self,
        kind: str,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        where: Where = None,
        limit: int | None = None,
        offset: int = 0,
        columns: Sequence[str] | None = None,
        region: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        """Rows intersecting ``bbox`` (lon/lat) and ``region`` (a WGS-84 geometry) and
        matching ``where``, ordered by key.

        ``columns`` limits the attributes returned to ``key`` plus those named (an
        unknown name raises UnknownColumnError); the geometry always comes back.
        """

    def read_points(
        self, kind: str, *, where: Where = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A point layer's rows matching ``where`` as plain columns, ordered by key:
        ``key`` plus ``columns`` (all when None), then ``lon`` and ``lat`` (WGS-84
        degrees, floats) instead of a geometry — the bulk read of the area-risk engine,
        which needs coordinates, not shapely objects.  ValueError for other layers.
        """

    def count(self, kind: str, *, where: Where = None) -> int:
        """Number of rows matching ``where``."""

    def nearest(
        self, kind: str, lon: float, lat: float, *, k: int, where: Where = None
    ) -> gpd.GeoDataFrame:
        """The ``k`` rows nearest to (lon, lat), with ``distance_m``, nearest first (ties by key)."""

    def nearest_per_group(
        self, kind: str, lon: float, lat: float, *, k: int, column: str, values: Sequence[str],
        fields: Sequence[str], where: Where = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """For each of ``values`` of ``column``, the ``k`` rows nearest to (lon, lat) as
        plain records: ``fields``, ``lon``/``lat`` (WGS-84; a point on the surface for
        lines and polygons) and ``distance_m``, nearest first (ties by key) — as
        :meth:`nearest` per value, in one round trip and without frames (the commander's
        nearest-resources answer)."""

    def within_distance(
        self, kind: str, geometry: BaseGeometry, distance_m: float, *, where: Where = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Rows within ``distance_m`` metres of ``geometry``, with ``distance_m``, nearest
        first; all columns, or ``key`` + ``columns`` as :meth:`read`."""

    def count_per_polygon(
        self,
        kind: str,
        polygon_kind: str,
        *,
        sum_column: str | None = None,
        group_column: str | None = None,
        where: Where = None,
        polygon_where: Where = None,
    ) -> pd.DataFrame:
        """For each polygon of ``polygon_kind``: count (and sum of ``sum_column``) of
        ``kind``'s rows that intersect it, optionally split by ``group_column``.

        Columns: ``polygon_key``, [``group``], ``count``, [``sum``]; every polygon
        appears (count 0 when empty); ordered by polygon key then group.
        """

    def tile(
        self,
        kind: str,
        z: int,
        x: int,
        y: int,
        *,
        columns: Sequence[str] = ("key",),
        where: Where = None,
        layer_name: str | None = None,
        extent: int = 4096,
        buffer: int = 64,
        cluster: ClusterSpec | None = None,
    ) -> bytes:
        """A Mapbox Vector Tile of ``kind``'s rows in tile z/x/y (Web Mercator).

        With ``cluster``, points are generalised: each ``cluster.cell`` × ``cluster.cell``
        square of tile units becomes one point at the square's centre carrying
        ``count``, ``key`` ("cluster:z/i/j", global cell indices) and ``n_<value>`` for
        each of ``cluster.values`` of ``cluster.column``.  Each point is in exactly one
        cell (:func:`geo.tiles.cluster_base_cells`); the tile draws its cells and the
        ring of cells around it.  Stores keep the cell counts per data version, so a
        low-zoom tile does not touch every point.

        Raises :class:`geo.tiles.TileRangeError` for a tile outside zoom ``z``,
        UnknownEntityError / UnknownColumnError for an unknown kind or column, and
        ValueError for a zoom above the cluster spec's base zoom.
        """
        check_tile(z, x, y)
        entity = get_entity(kind)
        for name in (*columns, *([cluster.column] if cluster is not None and cluster.column else [])):
            entity.column(name)
        check_where(entity, where)
        if cluster is not None:
            cluster.check_zoom(z)
        return self._render_tile(TileRequest(entity, z, x, y, tuple(columns), where, layer_name or kind, extent,
                                             buffer, cluster))

    def _render_tile(self, request: TileRequest) -> bytes:
        """The tile of a checked request: each store's part of :meth:`tile`."""

    def keep_clusters(self, kind: str, cluster: ClusterSpec, *, where: Where = None, extent: int = 4096) -> None:
        """Count ``kind``'s points into the cells of ``cluster`` now, unless already kept
        for the layer's current data version; PostGIS keeps them in the database and
        recounts them within every later load of the layer (those of a region scope's
        ``where``, :func:`geo.scope.is_scoped_where`: on the scope's next tile)."""

    def search(self, kind: str, text: str, *, columns: Sequence[str], limit: int = 20,
               where: Where = None) -> gpd.GeoDataFrame:
        """Rows matching ``where`` where any of ``columns`` contains ``text`` (case-insensitive).

        Ordered by match quality (an exact value first, then a prefix, then any
        substring), then key.
        """

    def record_run(self, run: RunRecord) -> None:
        """Keep ``run`` in the store's run log (recording a run id again replaces it)."""

    def read_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The recorded runs among ``run_ids``, by id (ids never recorded are left out)."""

    def close(self) -> None:
        """Release connections / file handles."""
