"""The embedded store: one GeoPackage file, queries answered in-process.

Layers are created with pyogrio (so the file is an ordinary GeoPackage that QGIS
opens, with GDAL's R-tree spatial index), rows are written with SQLite in one
transaction per upsert (geometry blobs from :mod:`geo.stores.gpkg_blob`), and reads
load each layer once with pyogrio into a GeoDataFrame plus a Shapely STRtree,
reloaded when the layer's data version changes.  No server, no root.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo import tiles
from geo.coords import STORAGE_CRS
from geo.distance import degree_box, distances_m
from geo.entities import ENTITIES, Entity, get_entity
from geo.errors import BadInput, RiskmapError
from geo.stores import gpkg_blob
from geo.stores.bounds import check_bbox, check_distance, check_lonlat, check_paging, check_rows, check_text
from geo.stores.frames import (
    check_point_layer,
    check_where,
    filter_frame,
    geo_frame,
    normalise_column,
    order_counts,
    point_frame,
    point_records,
    python_value,
    records,
    select_columns,
    where_columns,
)
from geo.stores.geopackage_accounts import ACCOUNT_DDL, GeoPackageAccounts
from geo.stores.outages import StoreReadOnly, StoreUnavailable, first_line, guard_store_methods
from geo.stores.protocol import (
    ClusterSpec,
    LoadBatch,
    RunRecord,
    Store,
    StoreError,
    StoreInfo,
    TileRequest,
    UpsertResult,
    Where,
)

SCHEMA_VERSION = "0003"  # 0002: the run log; 0003: accounts and the audit log
#: Columns layers no longer have, dropped from files made before (as PostGIS migrations do).
_DROPPED_COLUMNS = {"area_results": ("params",)}  # run parameters moved to the run log
_EARTH_M = 2.1e7  # more than half the equator: a search radius that covers everything

_PYOGRIO_DTYPES = {"text": object, "int": "int64", "float": "float64", "bool": "bool", "date": object}
_OGR_GEOMETRY = {"Geometry": "Unknown"}

_META_DDL = (
    "CREATE TABLE IF NOT EXISTS riskmap_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS riskmap_layer_version (kind TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS riskmap_load_batches (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    " file_name TEXT NOT NULL, sha256 TEXT NOT NULL, loaded_at TEXT NOT NULL, rows INTEGER NOT NULL,"
    " note TEXT)",
    "CREATE TABLE IF NOT EXISTS riskmap_runs (run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, run_at TEXT NOT NULL,"
    " params TEXT NOT NULL)",
)


@dataclass
class _Snapshot:
    """One layer as read at ``version``, rows in key order.

    Only the columns asked for so far are held (a narrow read such as the area-risk
    engine's does not pay for the others; more are read on demand, see
    :meth:`GeoPackageStore._snapshot`), each normalised as :func:`geo.stores.frames.normalise_frame` does.
    The STRtree and the full frame are built on first use.
    """

    entity: Entity
    version: int
    fid_keys: pa.ChunkedArray  # the key column in file (fid) order, to check later column reads line up
    order: pa.Array  # file row of each key-ordered row
    wkb: pa.ChunkedArray  # the geometry blobs' WKB, in key order
    columns: dict[str, pd.Series] = field(default_factory=dict)
    _xy: np.ndarray | None = None
    _geometry: np.ndarray | None = None
    _tree: shapely.STRtree | None = None
    _full: gpd.GeoDataFrame | None = None

    def __len__(self) -> int:
        return len(self.wkb)

    @property
    def coordinates(self) -> np.ndarray:
        """(n, 2) lon/lat of a point layer, unpacked from the WKB without shapely objects."""
        if self._xy is None:
            self._xy = _point_xy(self.wkb)
            if self._xy is None:  # not plain 2-D points: read them through shapely
                self._xy = shapely.get_coordinates(self.geometry).reshape(-1, 2)
        return self._xy

    @property
    def geometry(self) -> np.ndarray:
        if self._geometry is None:
            if self._xy is None:
                self._xy = _point_xy(self.wkb)
            self._geometry = shapely.points(self._xy) if self._xy is not None else \
                shapely.from_wkb(self.wkb.to_numpy(zero_copy_only=False))
        return self._geometry

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geometry)
        return self._tree

    @property
    def frame(self) -> gpd.GeoDataFrame:
        """Every column of the entity (the snapshot must hold them all: ``_snapshot(kind)``)."""
        if self._full is None:
            self._full = self.select([c.name for c in self.entity.all_columns])
        return self._full

    def select(self, names: Sequence[str]) -> gpd.GeoDataFrame:
        """The rows with columns ``names`` (which the snapshot must hold) and the geometry."""
        return gpd.GeoDataFrame({n: self.columns[n] for n in names},
                                geometry=gpd.GeoSeries(self.geometry, crs=STORAGE_CRS))

    def add_columns(self, table: pa.Table, names: Sequence[str]) -> None:
        """Normalise ``names`` of ``table`` (file order) into key order."""
        for name in names:
            column = self.entity.column(name)
            if name in table.column_names:
                series = _arrow_series(table[name].take(self.order))
            else:  # a column the file does not have yet: all missing
                series = pd.Series([None] * len(self), dtype=object)
            self.columns[name] = normalise_column(series, column)


def _arrow_series(values: pa.ChunkedArray) -> pd.Series:
    """An Arrow column as pandas: text as object (str/None) without the Arrow-string dtype's slow paths."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
    return values.to_pandas()


def _point_xy(wkb: pa.ChunkedArray) -> np.ndarray | None:
    """(n, 2) coordinates when every blob is a little-endian 2-D point with coordinates
    (ISO WKB, 21 bytes each), unpacked with numpy; None otherwise."""
    arr = wkb.combine_chunks() if wkb.num_chunks != 1 else wkb.chunk(0)
    n = len(arr)
    if not n or arr.null_count or not pa.types.is_binary(arr.type):
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + n + 1]
    if offsets[-1] - offsets[0] != 21 * n:
        return None
    body = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, 21)
    if not ((body[:, 0] == 1).all() and (body[:, 1:5] == (1, 0, 0, 0)).all()):
        return None
    xy = np.ascontiguousarray(body[:, 5:21]).view("<f8")
    return None if np.isnan(xy).any() else xy


def _placeholders(values: Sequence[Any]) -> str:
    """``(?, ?, …)`` for an SQL ``IN`` list of ``values``."""
    return f"({', '.join('?' * len(values))})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: SQLite's messages for a file that is there but cannot be used now (another writer holds
#: it, the disk is full or failing, it cannot be opened): an outage, not a bug.
_OUTAGE_MESSAGES = ("database is locked", "database table is locked", "unable to open", "disk i/o error",
                    "database or disk is full", "file is not a database", "database disk image is malformed")


def _translate_failure(store: GeoPackageStore, exc: Exception) -> RiskmapError | None:
    """What a failure of the file means for the caller (see :mod:`geo.stores.outages`): the
    file locked, unreadable, full or corrupt -> StoreUnavailable (503); written to although
    read-only -> StoreReadOnly.  Anything else is a bug and passes unchanged."""
    message = first_line(exc)
    where = f"RISKMAP_GPKG_PATH: {store.path}"
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in message.lower():
        return StoreReadOnly(f"{where} is read-only ({message}): it can be served, not written")
    if isinstance(exc, sqlite3.DatabaseError) and any(m in message.lower() for m in _OUTAGE_MESSAGES):
        return StoreUnavailable(f"{where}: {message}")
    if isinstance(exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError | OSError):
        return StoreUnavailable(f"{where}: cannot read: {message}")
    return None


@guard_store_methods(_translate_failure)
class GeoPackageStore(GeoPackageAccounts, Store):
    """The :class:`geo.stores.protocol.Store` over a single GeoPackage file.

    Every method turns a file it cannot use now (locked, unreadable, full) into
    :class:`geo.stores.outages.StoreUnavailable` (HTTP 503 with Retry-After)."""

    kind = "geopackage"

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 30.0, read_only: bool | None = None) -> None:
        """The store in the file ``path``; ``busy_timeout_s``: how long a statement waits
        for another process's write lock before the store reports itself unavailable.

        ``read_only``: open the file for reading only (SQLite ``mode=ro``): the schema is
        checked instead of migrated, everything is served, and a write raises
        :class:`geo.stores.outages.StoreReadOnly`.  Default (None): read-only when the file
        exists but cannot be written — a write-protected medium, no write permission on
        the file or its folder (see :func:`read_only_reason`)."""
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        if read_only is None:
            self.read_only_reason = read_only_reason(self.path)
        else:
            self.read_only_reason = "opened read-only (RISKMAP_READ_ONLY)" if read_only else None
        self._snapshots: dict[str, _Snapshot] = {}
        self._clusters: dict[tuple[str, str], tuple[int, dict[int, tiles.ClusterCells]]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # each thread's kept read connection
        self._kept: list[sqlite3.Connection] = []
        self._kept_lock = threading.Lock()  # not self._lock: snapshots read versions while holding it

    # -- connection and schema -------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def _connect(self) -> sqlite3.Connection:
        target: str | Path = self.path
        if self.read_only:  # SQLite then refuses every write, even from root
            target = f"{self.path.resolve().as_uri()}?mode=ro"
        con = sqlite3.connect(target, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False,
                              uri=self.read_only)
        gpkg_blob.register_functions(con)
        return con

    def _read_connection(self) -> sqlite3.Connection:
        """This thread's kept connection for small reads (autocommit: each statement sees
        the latest commit).  A new connection parses the file's schema again — 1.6 ms,
        paid two or three times a tile request before."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._kept_lock:
                self._kept.append(con)
        return con

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreReadOnly(f"RISKMAP_GPKG_PATH: {self.path} is read-only ({self.read_only_reason}):"
                                " it can be served and inspected, not written")

    def init_schema(self) -> None:
        """Create the layers or upgrade the file to SCHEMA_VERSION; a read-only file is
        checked instead (:meth:`check_schema`)."""
        if self.read_only:
            self.check_schema()
            return
        if self.path.is_file() and self._schema_problem() is None:
            return  # current: nothing to write (a write would wait for every reader of the file)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"RISKMAP_GPKG_PATH: cannot create {self.path.parent}: {exc}") from exc
        existing = set(pyogrio.list_layers(self.path)[:, 0]) if self.path.exists() else set()
        for entity in ENTITIES.values():
            if entity.table not in existing:
                self._create_layer(entity)
        con = self._connect()
        try:
            for ddl in (*_META_DDL, *ACCOUNT_DDL):
                con.execute(ddl)
            for kind, dropped in _DROPPED_COLUMNS.items():
                table = _quote(get_entity(kind).table)
                have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
                for name in dropped:
                    if name in have:
                        con.execute(f"ALTER TABLE {table} DROP COLUMN {_quote(name)}")
            for entity in ENTITIES.values():
                con.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {_quote(entity.table + '_key')}"
                    f" ON {_quote(entity.table)} (key)"
                )
                con.execute("INSERT OR IGNORE INTO riskmap_layer_version VALUES (?, 0)", (entity.kind,))
            con.execute("INSERT OR REPLACE INTO riskmap_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        finally:
            con.close()

    def check_schema(self) -> None:
        """Raise :class:`StoreError` (one line) unless the file holds this version's schema:
        every layer with every column, and the schema version SCHEMA_VERSION.  What a
        read-only file needs, since it cannot be upgraded."""
        where = f"RISKMAP_GPKG_PATH: {self.path}"
        if not self.path.is_file():
            raise StoreError(f"{where}: no such file (a read-only store cannot be created)")
        problem = self._schema_problem()
        if problem is not None:
            raise StoreError(f"{where}: {problem}; the file is read-only ({self.read_only_reason}), so it cannot be"
                             " upgraded here: run `riskmap init` on a writable copy")

    def _schema_problem(self) -> str | None:
        """What keeps the existing file from being this version's schema (None: nothing)."""
        con = self._connect()
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = con.execute("SELECT value FROM riskmap_meta WHERE name = 'schema_version'").fetchone() \
                if "riskmap_meta" in tables else None
            missing = [f"{e.table}.{c}" for e in ENTITIES.values() if e.table in tables
                       for c in sorted(set(e.column_names) - {r[1] for r in con.execute(
                           f"PRAGMA table_info({_quote(e.table)})")})]
            counted = con.execute("SELECT count(*) FROM riskmap_layer_version").fetchone()[0] \
                if "riskmap_layer_version" in tables else 0
        finally:
            con.close()
        missing = [e.table for e in ENTITIES.values() if e.table not in tables] + missing
        found = version[0] if version else "none"
        if found != SCHEMA_VERSION or missing:
            gaps = f"; missing {', '.join(missing[:5])}" if missing else ""
            return f"schema version {found}, this version serves {SCHEMA_VERSION}{gaps}"
        if counted < len(ENTITIES) or not {"riskmap_load_batches", "riskmap_runs"} <= tables:
            return "schema incomplete (run log or layer versions missing)"
        return None

    def _create_layer(self, entity: Entity) -> None:
        empty = gpd.GeoDataFrame(
            {c.name: pd.Series([], dtype=_PYOGRIO_DTYPES[c.type]) for c in entity.all_columns},
            geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
        )
        pyogrio.write_dataframe(
            empty,
            self.path,
            layer=entity.table,
            driver="GPKG",
            geometry_type=_OGR_GEOMETRY.get(entity.geometry_type, entity.geometry_type),
            layer_options={"FID": "fid", "GEOMETRY_NAME": "geom", "DESCRIPTION": entity.zh},
        )

    def info(self) -> StoreInfo:
        version = None
        if self.path.exists():
            con = self._connect()
            try:
                row = con.execute("SELECT value FROM riskmap_meta WHERE name = 'schema_version'").fetchone()
                version = row[0] if row else None
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # a locked or unreadable file is an outage
                    raise
                version = None
            finally:
                con.close()
        return StoreInfo(
            kind=self.kind,
            location=f"{self.path} (read-only: {self.read_only_reason})" if self.read_only else str(self.path),
            schema_version=version,
            versions={
                "gdal": pyogrio.__gdal_version_string__,
                "geos": shapely.geos_version_string,
                "sqlite": sqlite3.sqlite_version,
                "proj": _proj_version(),
            },
        )

    def data_versions(self, kinds: Sequence[str]) -> dict[str, int]:
        for kind in kinds:
            get_entity(kind)
        rows = self._read_connection().execute(
            f"SELECT kind, version FROM riskmap_layer_version WHERE kind IN {_placeholders(kinds)}", list(kinds)
        ).fetchall()
        found = {k: int(v) for k, v in rows}
        return {k: found.get(k, 0) for k in kinds}

    def _loaded_at(self, kinds: Sequence[str]) -> dict[str, datetime]:
        rows = self._read_connection().execute(
            "SELECT kind, loaded_at FROM riskmap_load_batches WHERE id IN (SELECT max(id) FROM riskmap_load_batches"
            f" WHERE kind IN {_placeholders(kinds)} GROUP BY kind)", list(kinds)).fetchall()
        return {kind: datetime.fromisoformat(at) for kind, at in rows}

    def close(self) -> None:
        self._snapshots.clear()
        self._clusters.clear()
        with self._kept_lock:
            kept, self._kept = self._kept, []
            self._local = threading.local()
        for con in kept:
            con.close()

    # -- run log ---------------------------------------------------------------------

    def record_run(self, run: RunRecord) -> None:
        self._check_writable()
        con = self._connect()
        try:
            con.execute("INSERT OR REPLACE INTO riskmap_runs VALUES (?, ?, ?, ?)",
                        (run.run_id, run.kind, run.run_at, run.params_json()))
        finally:
            con.close()

    def read_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        ids = list(run_ids)
        rows = self._read_connection().execute(
            f"SELECT run_id, kind, run_at, params FROM riskmap_runs WHERE run_id IN {_placeholders(ids)}", ids
        ).fetchall() if ids else []
        return {row[0]: RunRecord.from_row(*row) for row in rows}

    # -- writing -----------------------------------------------------------------

    def _write_rows(self, entity: Entity, rows: gpd.GeoDataFrame, batch: LoadBatch) -> UpsertResult:
        self._check_writable()
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(
                "INSERT INTO riskmap_load_batches (kind, file_name, sha256, loaded_at, rows, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (entity.kind, batch.file_name, batch.sha256, batch.loaded_at.isoformat(), len(rows), batch.note),
            )
            batch_id = int(cur.lastrowid or 0)
            result = UpsertResult(batch_id=batch_id)
            existing = dict(con.execute(f"SELECT key, row_hash FROM {_quote(entity.table)}").fetchall())
            rows["batch_id"] = batch_id
            is_new = ~rows["key"].isin(existing.keys()).to_numpy()
            old_hash = rows["key"].map(existing)
            is_changed = ~is_new & (old_hash != rows["row_hash"]).to_numpy()
            result.inserted = self._write(con, entity, rows[is_new], insert=True)
            result.updated = self._write(con, entity, rows[is_changed], insert=False)
            result.unchanged = len(rows) - result.inserted - result.updated
            if result.inserted or result.updated:
                self._touch(con, entity, rows)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return result

    def _write(self, con: sqlite3.Connection, entity: Entity, rows: gpd.GeoDataFrame, *, insert: bool) -> int:
        if rows.empty:
            return 0
        names = list(entity.column_names)
        blobs = gpkg_blob.encode(rows.geometry.values)
        values = records(entity, rows)
        if insert:
            self._bulk_insert(con, entity, rows, blobs, values)
        else:
            self._bulk_update(con, entity, rows, blobs, values, names)
        return len(rows)

    def _bulk_update(self, con: sqlite3.Connection, entity: Entity, rows: gpd.GeoDataFrame, blobs: list[bytes],
                     values: list[tuple[Any, ...]], names: list[str]) -> None:
        """UPDATE by key, replacing the rows' R-tree entries directly.

        GDAL's R-tree update triggers would call back into Python about fourteen times a
        row; as in :meth:`_bulk_insert` they are dropped and re-created inside the same
        transaction.  Geometries are never empty here (``prepare_rows`` rejects them) and
        fids do not change, so each updated row's index entry is simply replaced.
        """
        table = entity.table
        triggers = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ?",
            (table, f"rtree_{table}_geom_update%"),
        ).fetchall()
        for name, _ in triggers:
            con.execute(f"DROP TRIGGER {_quote(name)}")
        sets = ", ".join(f"{_quote(n)} = ?" for n in names)
        con.executemany(f"UPDATE {_quote(table)} SET geom = ?, {sets} WHERE key = ?",
                        ([b, *v, v[0]] for b, v in zip(blobs, values, strict=True)))
        fid_of = dict(con.execute(f"SELECT key, fid FROM {_quote(table)}").fetchall())
        fids = [fid_of[k] for k in rows["key"].tolist()]
        rtree = _quote(f"rtree_{table}_geom")
        con.executemany(f"DELETE FROM {rtree} WHERE id = ?", ((f,) for f in fids))
        bounds = shapely.bounds(rows.geometry.values)
        con.executemany(
            f"INSERT INTO {rtree} VALUES (?, ?, ?, ?, ?)",
            ((f, b[0], b[2], b[1], b[3]) for f, b in zip(fids, bounds.tolist(), strict=True)),
        )
        for _, sql in triggers:
            con.execute(sql)

    def _bulk_insert(self, con: sqlite3.Connection, entity: Entity, rows: gpd.GeoDataFrame, blobs: list[bytes],
                     values: list[tuple[Any, ...]]) -> None:
        """INSERT with explicit fids, filling GDAL's R-tree and feature count directly.

        GDAL's per-row insert triggers would call back into Python five times a row; they
        are dropped and re-created inside the same transaction, so a failure leaves them
        (and everything else) as they were.
        """
        table = entity.table
        triggers = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name IN (?, ?)",
            (table, f"rtree_{table}_geom_insert", f"trigger_insert_feature_count_{table}"),
        ).fetchall()
        for name, _ in triggers:
            con.execute(f"DROP TRIGGER {_quote(name)}")
        first = int(con.execute(f"SELECT coalesce(max(fid), 0) + 1 FROM {_quote(table)}").fetchone()[0])
        fids = range(first, first + len(rows))
        names = list(entity.column_names)
        con.executemany(
            f"INSERT INTO {_quote(table)} (fid, geom, {', '.join(map(_quote, names))})"
            f" VALUES (?, ?{', ?' * len(names)})",
            ([f, b, *v] for f, b, v in zip(fids, blobs, values, strict=True)),
        )
        bounds = shapely.bounds(rows.geometry.values)
        filled = ~np.isnan(bounds[:, 0])
        con.executemany(
            f"INSERT INTO {_quote(f'rtree_{table}_geom')} VALUES (?, ?, ?, ?, ?)",
            ((f, b[0], b[2], b[1], b[3]) for f, b, ok in zip(fids, bounds.tolist(), filled, strict=True) if ok),
        )
        con.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? WHERE lower(table_name) = lower(?)",
                    (len(rows), table))
        for _, sql in triggers:
            con.execute(sql)

    def _touch(self, con: sqlite3.Connection, entity: Entity, rows: gpd.GeoDataFrame) -> None:
        con.execute("UPDATE riskmap_layer_version SET version = version + 1 WHERE kind = ?", (entity.kind,))
        minx, miny, maxx, maxy = rows.total_bounds
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        con.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = min(coalesce(min_x, ?), ?),"
            " min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?),"
            " max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
            (now, minx, minx, miny, miny, maxx, maxx, maxy, maxy, entity.table),
        )

    # -- reading -------------------------------------------------------------------

    def _snapshot(self, kind: str, columns: Sequence[str] | None = None) -> _Snapshot:
        """The layer's current snapshot holding at least ``columns`` (default: all) and ``key``.

        A column read is used only if the layer's data version is the same before and
        after it (an upsert bumps the version in its own transaction), so every column
        of a snapshot comes from the same state of the layer.
        """
        entity = get_entity(kind)
        wanted = [c.name for c in select_columns(entity, None if columns is None else list(dict.fromkeys(columns)))]
        with self._lock:
            for _ in range(5):
                version = self.data_version(kind)
                snap = self._snapshots.get(kind)
                if snap is not None and snap.version != version:
                    snap = None
                missing = [n for n in wanted if snap is None or n not in snap.columns]
                if not missing:
                    assert snap is not None
                    return snap
                _, table = pyogrio.read_arrow(self.path, layer=entity.table, columns=list(dict.fromkeys(
                    ["key", *missing])), read_geometry=snap is None)
                if self.data_version(kind) != version:
                    continue
                if snap is None:
                    order = pc.sort_indices(table["key"])  # UTF-8 byte order = Python's str order
                    snap = _Snapshot(entity, version, table["key"], order, table["geom"].take(order))
                elif not table["key"].equals(snap.fid_keys):
                    self._snapshots.pop(kind, None)
                    continue
                snap.add_columns(table, missing)
                self._snapshots[kind] = snap
                return snap
        raise StoreError(f"{kind}: the layer kept changing while being read; try again")

    def _candidates(self, kind: str, where: Where, box: tuple[float, float, float, float] | None,
                    columns: Sequence[str] | None = None) -> tuple[_Snapshot, np.ndarray]:
        """Indices (sorted, i.e. in key order) of rows in ``box`` matching ``where``; the
        snapshot holds ``columns`` (default: all)."""
        entity = get_entity(kind)
        filters = check_where(entity, where)
        read = where_columns(filters)
        snap = self._snapshot(kind, None if columns is None else [*columns, *read])
        if box is None:
            idx = np.arange(len(snap))
        else:
            idx = np.sort(snap.tree.query(shapely.box(*box), predicate="intersects"))
        if filters:
            # (no column read: an empty any_of, which no row matches)
            values = pd.DataFrame({n: snap.columns[n] for n in read}, index=None if read else pd.RangeIndex(len(snap)))
            idx = idx[filter_frame(values.iloc[idx], filters)]
        return snap, idx

    def read(
        self, kind: str, *, bbox: tuple[float, float, float, float] | None = None, where: Where = None,
        limit: int | None = None, offset: int = 0, columns: Sequence[str] | None = None,
        region: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        entity = get_entity(kind)
        limit, offset = check_paging(limit, offset)
        names = None if columns is None else [c.name for c in select_columns(entity, columns)]
        snap, idx = self._candidates(kind, where, check_bbox(bbox), names)
        if region is not None:
            idx = idx[np.isin(idx, snap.tree.query(region, predicate="intersects"))]
        stop = None if limit is None else offset + limit
        frame = snap.frame if names is None else snap.select(names)
        return frame.iloc[idx[offset:stop]].reset_index(drop=True)

    def read_points(self, kind: str, *, where: Where = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        entity = get_entity(kind)
        check_point_layer(entity)
        names = [c.name for c in select_columns(entity, columns)]
        snap, idx = self._candidates(kind, where, None, names)
        xy = snap.coordinates[idx]
        return point_frame({n: snap.columns[n].iloc[idx].reset_index(drop=True) for n in names}, xy[:, 0], xy[:, 1])

    def count(self, kind: str, *, where: Where = None) -> int:
        return len(self._candidates(kind, where, None, ())[1])

    def nearest(self, kind: str, lon: float, lat: float, *, k: int, where: Where = None) -> gpd.GeoDataFrame:
        k = check_rows("k", k, lo=1)
        lon, lat = check_lonlat(lon, lat)
        point = shapely.Point(lon, lat)
        radius = 1000.0
        while True:
            box = None if radius >= _EARTH_M else degree_box(lon, lat, radius)
            snap, idx = self._candidates(kind, where, box)
            if len(idx) >= k or box is None:
                hits = self._with_distance(snap, idx, point)
                if len(hits) < k and box is not None:
                    radius *= 4
                    continue
                kth = hits["distance_m"].iloc[k - 1] if len(hits) >= k else np.inf
                if box is None or kth <= radius:
                    return hits.head(k).reset_index(drop=True)
                radius = float(kth)
            else:
                radius *= 4

    def within_distance(
        self, kind: str, geometry: BaseGeometry, distance_m: float, *, where: Where = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        distance_m = check_distance(distance_m)
        minx, miny, maxx, maxy = geometry.bounds
        lo = degree_box(minx, miny, distance_m)
        hi = degree_box(maxx, maxy, distance_m)
        box = (min(lo[0], hi[0]), min(lo[1], hi[1]), max(lo[2], hi[2]), max(lo[3], hi[3]))
        names = [c.name for c in select_columns(get_entity(kind), columns)]
        snap, idx = self._candidates(kind, where, box, names)
        return self._with_distance(snap, idx, geometry, names, within_m=distance_m)

    @staticmethod
    def _with_distance(snap: _Snapshot, idx: np.ndarray, query: BaseGeometry, names: Sequence[str] | None = None,
                       *, within_m: float | None = None) -> gpd.GeoDataFrame:
        """Rows ``idx`` (those within ``within_m`` metres, when given) with ``distance_m``,
        nearest first (ties by key); columns ``names`` (default: all)."""
        names = [c.name for c in snap.entity.all_columns] if names is None else names
        d = distances_m(query, snap.geometry[idx]) if len(idx) else np.array([], float)
        if within_m is not None:
            idx, d = idx[d <= within_m], d[d <= within_m]
        # idx is in key order, so a stable sort on the rounded distance breaks ties by key
        order = np.argsort(np.round(d, 3), kind="stable")
        rows, d = idx[order], d[order]
        columns = {n: snap.columns[n].iloc[rows].reset_index(drop=True) for n in names}
        return geo_frame(columns | {"distance_m": d}, snap.geometry[rows])

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
        entity = get_entity(kind)
        for name in (sum_column, group_column):
            if name is not None:
                entity.column(name)
        psnap, pidx = self._candidates(polygon_kind, polygon_where, None)
        snap, idx = self._candidates(kind, where, None)
        polygons = psnap.frame.iloc[pidx]
        allowed = np.zeros(len(snap), dtype=bool)
        allowed[idx] = True
        pi, si = snap.tree.query(polygons.geometry.values, predicate="intersects")
        keep = allowed[si]
        pairs = pd.DataFrame({"polygon_key": polygons["key"].to_numpy()[pi[keep]]})
        points = snap.frame.iloc[si[keep]].reset_index(drop=True)
        keys = ["polygon_key"]
        if group_column:
            pairs["group"] = points[group_column].astype(object).to_numpy()
            keys.append("group")
        pairs["value"] = points[sum_column].astype("float64").to_numpy() if sum_column else 1.0
        grouped = pairs.groupby(keys, dropna=False, sort=False)
        out = grouped.size().rename("count").reset_index()
        if sum_column:
            out["sum"] = grouped["value"].sum(min_count=1).to_numpy()
        empty = sorted(set(polygons["key"]) - set(out["polygon_key"]))
        if empty:
            filler = pd.DataFrame({"polygon_key": empty, "count": 0})
            if group_column:
                filler["group"] = None
            if sum_column:
                filler["sum"] = np.nan
            out = pd.concat([out, filler], ignore_index=True)
        return order_counts(out, grouped=group_column is not None, summed=sum_column is not None)

    def _render_tile(self, request: TileRequest) -> bytes:
        r, kind = request, request.entity.kind
        if r.cluster is not None:
            cells = self._cluster_cells(kind, r.cluster, r.where, r.z, extent=r.extent)
            return tiles.encode_clusters(r.layer_name, cells, r.x, r.y, extent=r.extent, cell=r.cluster.cell,
                                         value_set=r.cluster.values)
        box = tiles.tile_bbox_lonlat(r.z, r.x, r.y, buffer_fraction=r.buffer / r.extent)
        snap, idx = self._candidates(kind, r.where, box)
        return encode_rows(snap.frame.iloc[idx], r.z, r.x, r.y, columns=r.columns, layer_name=r.layer_name,
                           extent=r.extent, buffer=r.buffer, cluster=None)

    def nearest_per_group(
        self, kind: str, lon: float, lat: float, *, k: int, column: str, values: Sequence[str],
        fields: Sequence[str], where: Where = None,
    ) -> dict[str, list[dict[str, Any]]]:
        entity = get_entity(kind)
        for name in (column, *fields):
            entity.column(name)
        k = check_rows("k", k, lo=1)
        lon, lat = check_lonlat(lon, lat)
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return {}
        # One pass over the rows of every wanted group: distances once, then each group's k
        # nearest (ties by key, as nearest() and PostGIS order them).
        snap, idx = self._candidates(kind, {**(where or {}), column: wanted}, None, list(dict.fromkeys(
            [column, *fields])))
        hits = self._with_distance(snap, idx, shapely.Point(lon, lat), list(dict.fromkeys([column, *fields])))
        groups = hits[column].to_numpy()
        return {v: point_records(hits[groups == v].head(k), fields) for v in values}

    def keep_clusters(self, kind: str, cluster: ClusterSpec, *, where: Where = None, extent: int = 4096) -> None:
        self._cluster_cells(kind, cluster, where, cluster.base_zoom, extent=extent)

    def _cluster_cells(self, kind: str, cluster: ClusterSpec, where: Where, z: int, *,
                       extent: int) -> tiles.ClusterCells:
        """The layer's points counted in the cells of zoom ``z``: counted once per data
        version at the spec's base zoom, coarser zooms derived and kept on first use."""
        cluster.check_zoom(z)
        names = [cluster.column] if cluster.column else []  # only what is counted: not the whole layer
        snap, idx = self._candidates(kind, where, None, names)
        key = (kind, cluster.identity(kind, where, extent=extent)[0])
        with self._lock:
            kept = self._clusters.get(key)
        if kept is None or kept[0] != snap.version:
            rows = snap.select(names).iloc[idx]
            kept = (snap.version, {cluster.base_zoom: base_cells(rows, cluster, extent=extent)})
            with self._lock:
                self._clusters[key] = kept
        levels = kept[1]
        if z not in levels:
            levels[z] = tiles.coarser_cells(levels[cluster.base_zoom], z)
        return levels[z]

    def search(self, kind: str, text: str, *, columns: Sequence[str], limit: int = 20,
               where: Where = None) -> gpd.GeoDataFrame:
        entity = get_entity(kind)
        for name in columns:
            entity.column(name)
        limit = check_rows("limit", limit)
        needle = check_text("search text", text).strip().casefold()
        if not needle:
            raise BadInput("empty search text")
        snap, allowed = self._candidates(kind, where, None)
        frame = snap.frame
        rank = np.full(len(frame), 3)
        for name in columns:
            col = frame[name].fillna("").astype(str).str.casefold()
            rank = np.minimum(rank, np.where(col == needle, 0, np.where(col.str.startswith(needle), 1,
                                              np.where(col.str.contains(needle, regex=False), 2, 3))))
        hits = np.intersect1d(np.flatnonzero(rank < 3), allowed) if where else np.flatnonzero(rank < 3)
        order = hits[np.lexsort((frame["key"].to_numpy()[hits], rank[hits]))]
        return frame.iloc[order[:limit]].reset_index(drop=True)


def read_only_reason(path: Path) -> str | None:
    """Why the existing file ``path`` cannot be written (None: it can, or it does not exist):
    a file system mounted read-only (a write-protected medium), or no write permission on
    the file or on its folder (SQLite writes its journal beside the file)."""
    if not path.exists():
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return "no write permission on the file"
    if not os.access(path.parent, os.W_OK):
        return "no write permission on its folder"
    return None


def _proj_version() -> str:
    import pyproj

    return str(pyproj.proj_version_str)


def encode_rows(
    rows: gpd.GeoDataFrame,
    z: int,
    x: int,
    y: int,
    *,
    columns: Sequence[str],
    layer_name: str,
    extent: int,
    buffer: int,
    cluster: ClusterSpec | None,
) -> bytes:
    """Rows (WGS-84) -> one MVT layer, as PostGIS's ST_AsMVT does (see geo.tiles).

    Used by the embedded store, and for any store when the displayed data must first be
    shifted (a GCJ-02 basemap).
    """
    if cluster is not None:
        cluster.check_zoom(z)
        cells = tiles.coarser_cells(base_cells(rows, cluster, extent=extent), z)
        return tiles.encode_clusters(layer_name, cells, x, y, extent=extent, cell=cluster.cell,
                                     value_set=cluster.values)
    projected = tiles.to_tile_coords(rows.geometry.values, z, x, y, extent=extent)
    clipped = tiles.clip_to_tile(projected, extent=extent, buffer=buffer)
    props = [{c: python_value(v) for c, v in zip(columns, vals, strict=True)}
             for vals in zip(*(rows[c].tolist() for c in columns), strict=True)] if len(rows) else []
    return tiles.encode_tile(layer_name, list(clipped), props, extent=extent)


def base_cells(rows: gpd.GeoDataFrame, cluster: ClusterSpec, *, extent: int = 4096) -> tiles.ClusterCells:
    """Point rows (WGS-84) counted in the cells of the spec's base zoom."""
    geoms = rows.geometry.values
    if (shapely.get_type_id(geoms) != 0).any():
        raise ValueError("only point layers can be clustered")
    values = rows[cluster.column].tolist() if cluster.column else None
    return tiles.cluster_base_cells(shapely.get_x(geoms), shapely.get_y(geoms), values, base_zoom=cluster.base_zoom,
                                    extent=extent, cell=cluster.cell, value_set=cluster.values)
