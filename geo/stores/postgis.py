"""The production store: PostgreSQL + PostGIS through SQLAlchemy 2, GeoAlchemy2 and psycopg 3.

The schema is created and upgraded by Alembic (``geo/io/migrations``).  Every
value reaches SQL as a bound parameter; identifiers come only from
:mod:`geo.entities`.  Distances are geodesics on the spheroid between edges cut
at 0.001° (geography), which agree with the embedded store's AEQD figures
(:mod:`geo.distance`) to the millimetre.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from geoalchemy2 import Geography
from psycopg import pq
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    delete,
    event,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.expression import FromClause

from geo.collector import collector_paused
from geo.coords import STORAGE_SRID
from geo.distance import SEGMENT_DEGREES
from geo.entities import Entity, get_entity
from geo.errors import BadInput, Conflict, RiskmapError
from geo.scope import ANY_OF, is_scoped_where
from geo.stores.bounds import check_bbox, check_distance, check_lonlat, check_paging, check_rows, check_text
from geo.stores.frames import (
    check_point_layer,
    check_where,
    date_text,
    order_counts,
    point_frame,
    records,
    select_columns,
    typed_columns,
    typed_frame,
)
from geo.stores.outages import StoreUnavailable, first_line, guard_store_methods
from geo.stores.postgis_accounts import PostGISAccounts
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
from geo.stores.schema import TABLES, cluster_cells, cluster_specs, layer_versions, load_batches, runs
from geo.tiles import MERCATOR_HALF

MIGRATIONS = Path(__file__).with_name("migrations")
#: The newest migration in MIGRATIONS (a test checks it is Alembic's head).
SCHEMA_HEAD = "0005"
#: Seconds a layer's data version is remembered (it is read on every tile request).
VERSION_TTL_S = 1.0
#: An upsert that inserts at least this many rows, and at least half as many as the table
#: held at its last ANALYZE (or it never had one), is followed by ANALYZE: the planner
#: must know a bulk load at once, not when autovacuum comes round.
ANALYZE_AFTER_ROWS = 1000
_SETTING = "RISKMAP_DATABASE_URL"


def _bigint_array(items: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    return cast(array(items), ARRAY(BigInteger)) if items else literal_column("'{}'::bigint[]")


def _binary_results(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                    executemany: bool) -> None:
    """Ask for binary results when the execution says ``binary_results=True``: floats,
    integers and dates then cross the wire without text formatting and parsing (a third
    less client CPU on a bulk read)."""
    if context is not None and context.execution_options.get("binary_results"):
        cursor.format = pq.Format.BINARY


def _wkb_param(name: str, geometry: BaseGeometry) -> ColumnElement[Any]:
    """A bound WGS-84 geometry parameter."""
    return func.ST_GeomFromWKB(bindparam(name, shapely.to_wkb(geometry), unique=True), STORAGE_SRID)


def _translate_failure(store: PostGISStore, exc: Exception) -> RiskmapError | None:
    """What a database failure means for the caller (see :mod:`geo.stores.outages`): the
    server down, restarting or unreachable, a dropped connection, a full pool (busy) ->
    StoreUnavailable (503); two loads writing the same new keys at once -> Conflict; a value
    PostgreSQL refuses -> BadInput.  Anything else is a bug and passes unchanged."""
    orig = getattr(exc, "orig", None) or exc
    where = f"PostGIS {store._safe_url()}"
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout) or \
            isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreUnavailable(f"{where} unavailable: {first_line(exc)}; try again shortly")
    if isinstance(orig, psycopg.errors.UniqueViolation):
        return Conflict(f"{where}: another load is writing the same rows at the same time ({first_line(exc)});"
                        " run this one again when it has finished")
    if isinstance(exc, DataError) or isinstance(orig, psycopg.DataError):
        return BadInput(f"{where} refused a value: {first_line(exc)}")
    return None


@guard_store_methods(_translate_failure, extra=("check",))
class PostGISStore(PostGISAccounts, Store):
    """The :class:`geo.stores.protocol.Store` over a PostGIS database.

    Every method turns a database outage into :class:`geo.stores.outages.StoreUnavailable`
    (HTTP 503 with Retry-After; the pools ping a connection before using it, so they recover
    by themselves when the server is back)."""

    kind = "postgis"

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"{_SETTING}: not a database URL ({exc})") from None
        if parsed.get_backend_name() not in ("postgresql", "postgres"):
            raise StoreError(f"{_SETTING}: expected postgresql://..., got {parsed.get_backend_name()}://")
        self.url = parsed.set(drivername="postgresql+psycopg")
        self._versions: dict[str, tuple[float, int]] = {}
        self._cluster_versions: dict[str, int] = {}  # spec -> layer version its kept cells are of
        self._tile_statements: dict[tuple[Any, ...], Select[Any]] = {}
        # JIT adds 0.5-1 s of compilation to the large low-zoom tile queries and helps none of ours.
        options = {"pool_pre_ping": True, "connect_args": {"options": "-c jit=off"}}
        self.engine = create_engine(self.url, pool_size=2, max_overflow=6, **options)  # writes
        # Reads run outside a transaction (their own pool): no BEGIN and no ROLLBACK round trip.
        self._reader = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=8, **options)
        event.listen(self._reader, "before_cursor_execute", _binary_results)

    # -- schema ------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`StoreError` (one line, naming the setting) unless usable."""
        try:
            with self._reader.connect() as conn:
                has = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(f"{_SETTING}: cannot connect to {self._safe_url()}: {reason}") from None
        if not has:
            raise StoreError(
                f"{_SETTING}: database {self.url.database!r} has no postgis extension"
                " (CREATE EXTENSION postgis)"
            )

    def _safe_url(self) -> str:
        return self.url.set(drivername="postgresql").render_as_string(hide_password=True)

    def _revision(self, conn: Connection) -> str | None:
        """The schema's Alembic revision (None before the first migration)."""
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar_one() is None:
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def init_schema(self) -> None:
        """Create or upgrade the schema to SCHEMA_HEAD.  Alembic (0.5 s to import) is
        loaded only when there is something to migrate."""
        self.check()
        with self._reader.connect() as conn:
            if self._revision(conn) == SCHEMA_HEAD:
                return
        from alembic import command
        from alembic.config import Config

        with self.engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def info(self) -> StoreInfo:
        with self._reader.connect() as conn:
            versions = {
                "postgresql": conn.execute(text("SHOW server_version")).scalar_one(),
                "postgis": conn.execute(text("SELECT postgis_lib_version()")).scalar_one(),
                "geos": conn.execute(text("SELECT postgis_geos_version()")).scalar_one(),
                "proj": conn.execute(text("SELECT postgis_proj_version()")).scalar_one(),
            }
            schema = self._revision(conn)
        return StoreInfo(self.kind, self._safe_url(), schema, {k: str(v) for k, v in versions.items()})

    def data_versions(self, kinds: Sequence[str]) -> dict[str, int]:
        """The layers' versions; each remembered for VERSION_TTL_S seconds (a load by
        another process shows within that time; this store's own upserts show at once)."""
        for kind in kinds:
            get_entity(kind)
        now = time.monotonic()
        out: dict[str, int] = {}
        for kind in kinds:
            remembered = self._versions.get(kind)
            if remembered is not None and now - remembered[0] < VERSION_TTL_S:
                out[kind] = remembered[1]
        missing = [k for k in kinds if k not in out]
        if missing:
            with self._reader.connect() as conn:
                found = dict(conn.execute(select(layer_versions.c.kind, layer_versions.c.version)
                                          .where(layer_versions.c.kind.in_(missing))).all())
            for kind in missing:
                out[kind] = int(found.get(kind) or 0)
                self._versions[kind] = (now, out[kind])
        return {k: out[k] for k in kinds}  # in the order asked (callers build cache keys from it)

    def _loaded_at(self, kinds: Sequence[str]) -> dict[str, datetime]:
        latest = select(func.max(load_batches.c.id)).where(load_batches.c.kind.in_(list(kinds))) \
            .group_by(load_batches.c.kind)
        stmt = select(load_batches.c.kind, load_batches.c.loaded_at).where(load_batches.c.id.in_(latest))
        with self._reader.connect() as conn:
            return {kind: at for kind, at in conn.execute(stmt)}

    def close(self) -> None:
        self.engine.dispose()
        self._reader.dispose()

    # -- run log ---------------------------------------------------------------------

    def record_run(self, run: RunRecord) -> None:
        values = {"kind": run.kind, "run_at": run.run_at, "params": run.params_json()}
        stmt = pg_insert(runs).values(run_id=run.run_id, **values)
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[runs.c.run_id], set_=values))

    def read_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        stmt = select(runs.c.run_id, runs.c.kind, runs.c.run_at, runs.c.params).where(runs.c.run_id.in_(list(run_ids)))
        with self._reader.connect() as conn:
            return {row[0]: RunRecord.from_row(*row) for row in conn.execute(stmt)}

    # -- writing -------------------------------------------------------------------

    def _write_rows(self, entity: Entity, rows: gpd.GeoDataFrame, batch: LoadBatch) -> UpsertResult:
        kind, table = entity.kind, TABLES[entity.kind]
        names = list(entity.column_names)
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                insert(load_batches).returning(load_batches.c.id),
                {"kind": kind, "file_name": batch.file_name, "sha256": batch.sha256,
                 "loaded_at": batch.loaded_at, "rows": len(rows), "note": batch.note},
            ).scalar_one()
            rows["batch_id"] = batch_id
            staging = self._stage(conn, entity, rows, names)
            result = UpsertResult(batch_id=batch_id)
            result.updated = conn.execute(
                update(table)
                .where(table.c.key == staging.c.key, table.c.row_hash.is_distinct_from(staging.c.row_hash))
                .values({**{n: staging.c[n] for n in names if n != "key"}, "geom": staging.c.geom})
            ).rowcount
            is_new = ~exists().where(table.c.key == staging.c.key)
            result.inserted = conn.execute(select(func.count()).select_from(staging).where(is_new)).scalar_one()
            conn.execute(
                insert(table).from_select(
                    [*names, "geom"], select(*(staging.c[n] for n in names), staging.c.geom).where(is_new)
                )
            )
            result.unchanged = len(rows) - result.inserted - result.updated
            if result.inserted or result.updated:
                conn.execute(
                    update(layer_versions)
                    .where(layer_versions.c.kind == kind)
                    .values(version=layer_versions.c.version + 1)
                )
                kept = conn.execute(select(cluster_specs.c.spec, cluster_specs.c.definition)
                                    .where(cluster_specs.c.kind == kind)).all()
                for spec, definition in kept:  # the next low-zoom tile should not pay for the load
                    if not is_scoped_where(json.loads(definition)["where"]):  # a scope's: on its next tile
                        self._keep_cluster_cells(conn, spec, definition)
        self._versions.pop(kind, None)
        if result.inserted >= ANALYZE_AFTER_ROWS:
            with self._reader.connect() as conn:
                analysed = float(conn.execute(text(
                    "SELECT coalesce(max(reltuples), -1) FROM pg_class WHERE oid = to_regclass(:t)"
                ), {"t": entity.table}).scalar_one())  # -1: never analysed
                if analysed < 0 or result.inserted >= analysed / 2:
                    conn.execute(text(f'ANALYZE "{entity.table}"'))
        return result

    def _stage(self, conn: Connection, entity: Entity, rows: gpd.GeoDataFrame, names: list[str]) -> Table:
        """COPY the batch into a temporary table shaped like the entity's table."""
        table = TABLES[entity.kind]
        staging_name = f"staging_{entity.table}"
        conn.execute(text(
            f'CREATE TEMP TABLE "{staging_name}" (LIKE "{entity.table}" INCLUDING DEFAULTS) ON COMMIT DROP'
        ))
        ewkb = shapely.to_wkb(shapely.set_srid(rows.geometry.values, STORAGE_SRID), hex=True, include_srid=True)
        raw = conn.connection.driver_connection
        assert raw is not None
        column_list = ", ".join(f'"{n}"' for n in [*names, "geom"])
        with raw.cursor().copy(f'COPY "{staging_name}" ({column_list}) FROM STDIN') as copy:
            for values, geom in zip(records(entity, rows), ewkb, strict=True):
                copy.write_row((*values, geom))
        return table.to_metadata(MetaData(), name=staging_name)

    # -- reading -------------------------------------------------------------------

    @staticmethod
    def _filters(entity: Entity, table: FromClause, where: Where) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        for name, value in check_where(entity, where).items():
            if name == ANY_OF:
                either = [and_(true(), *PostGISStore._filters(entity, table, alternative)) for alternative in value]
                clauses.append(or_(false(), *either))
                continue
            col = table.c[name]
            if value is None:
                clauses.append(col.is_(None))
            elif isinstance(value, list | tuple | set | frozenset):
                clauses.append(col.in_(list(value)))
            else:
                clauses.append(col == value)
        return clauses

    def _fetch_columns(self, stmt: Select[Any]) -> dict[str, Sequence[Any]]:
        """Run a read and return its result column by column (driver values)."""
        with self._reader.connect() as conn, collector_paused():
            result = conn.execution_options(binary_results=True).execute(stmt)
            names = list(result.keys())
            # The driver's own tuples: the values need no SQLAlchemy result processing
            # (text, numbers, booleans, dates), which would cost ~2 µs a row.
            rows = result.cursor.fetchall() if result.cursor is not None else []
            result.close()
            # Column-wise from the row tuples: much faster than DataFrame(list of Row objects).
            # The row tuples go before the collector resumes, so it has no pile to walk.
            values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
            del rows
        return dict(zip(names, values, strict=True))

    def _frame(self, entity: Entity, stmt: Select[Any], extra: Sequence[str] = (),
               columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        data = self._fetch_columns(stmt)
        if "geom_x" in data:  # points come as two floats: no WKB to parse
            geometry = shapely.points(np.array(data.pop("geom_x"), dtype=float),
                                      np.array(data.pop("geom_y"), dtype=float))
        else:
            geometry = shapely.from_wkb([bytes(b) for b in data.pop("geom_wkb")])
        return typed_frame(entity, data, geometry, extra=extra, columns=columns)

    @staticmethod
    def _columns(entity: Entity, table: Table, columns: Sequence[str] | None = None) -> list[ColumnElement[Any]]:
        names = [c.name for c in select_columns(entity, columns)]
        if entity.geometry_type == "Point":
            geom = [func.ST_X(table.c.geom).label("geom_x"), func.ST_Y(table.c.geom).label("geom_y")]
        else:
            geom = [func.ST_AsBinary(table.c.geom).label("geom_wkb")]
        return [*(table.c[n] for n in names), *geom]

    def read(
        self, kind: str, *, bbox: tuple[float, float, float, float] | None = None, where: Where = None,
        limit: int | None = None, offset: int = 0, columns: Sequence[str] | None = None,
        region: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        entity, table = get_entity(kind), TABLES[kind]
        limit, offset = check_paging(limit, offset)
        bbox = check_bbox(bbox)
        clauses = self._filters(entity, table, where)
        if bbox is not None:
            env = func.ST_MakeEnvelope(*(bindparam(f"b{i}", v) for i, v in enumerate(bbox)), STORAGE_SRID)
            clauses.append(func.ST_Intersects(table.c.geom, env))
        if region is not None:
            clauses.append(func.ST_Intersects(table.c.geom, _wkb_param("region", region)))
        stmt = select(*self._columns(entity, table, columns)).where(*clauses).order_by(table.c.key)
        stmt = stmt.offset(offset).limit(limit)
        return self._frame(entity, stmt, columns=columns)

    def read_points(self, kind: str, *, where: Where = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        entity, table = get_entity(kind), TABLES[kind]
        check_point_layer(entity)
        stmt = select(*self._columns(entity, table, columns)).where(*self._filters(entity, table, where))
        # Key order by the key's UTF-8 bytes — the key column's own (collation "C") order, but
        # as an expression the index does not serve: a bulk read sorts the rows rather than walk
        # the index through a heap that is not in key order (3.3 s instead of 7.6 s for 1.6 M
        # sources; the same at 162,699).
        data = self._fetch_columns(stmt.order_by(func.convert_to(table.c.key, "UTF8")))
        lon, lat = data.pop("geom_x"), data.pop("geom_y")
        return point_frame(typed_columns(entity, data, columns=columns), lon, lat)

    def count(self, kind: str, *, where: Where = None) -> int:
        entity, table = get_entity(kind), TABLES[kind]
        stmt = select(func.count()).select_from(table).where(*self._filters(entity, table, where))
        with self._reader.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def _distance(self, entity: Entity, table: Table, query: BaseGeometry, name: str) -> ColumnElement[float]:
        """Distance in metres from ``query``, as geo.distance.distances_m: the geodesic
        between the nearest points, with both geometries' edges first cut at
        SEGMENT_DEGREES (so an edge is the same line, to well under a millimetre, whether
        it is read as straight in lon/lat, in the AEQD projection or as a great circle).

        PostGIS measures geography on the spheroid (GeographicLib), which agrees with the
        embedded store's AEQD figures to the millimetre; ``ST_Transform(geom, <proj
        text>)`` would build a PROJ pipeline for every row (~18 ms each).
        """
        step: BindParameter[float] = bindparam(f"{name}_step", SEGMENT_DEGREES, unique=True)
        mine = table.c.geom if entity.geometry_type == "Point" else func.ST_Segmentize(table.c.geom, step)
        theirs = _wkb_param(name, query) if query.geom_type == "Point" else \
            func.ST_Segmentize(_wkb_param(name, query), step)
        return func.ST_Distance(cast(mine, Geography), cast(theirs, Geography), True)

    def _nearest(self, entity: Entity, table: Table, lon: float, lat: float, k: int, where: Where,
                 outputs: Sequence[ColumnElement[Any]]) -> Select[Any]:
        """``outputs`` and ``distance_m`` of the ``k`` rows nearest to (lon, lat)."""
        k = check_rows("k", k, lo=1)
        point = shapely.Point(*check_lonlat(lon, lat))
        clauses = self._filters(entity, table, where)
        geog = cast(table.c.geom, Geography)
        pt_geog = cast(_wkb_param("pt", point), Geography)
        # Index-assisted KNN ranks on the sphere; the true (ellipsoidal) k nearest all lie
        # within 2 % of the k-th spherical distance, so re-rank that set exactly.
        knn = select(geog.label("g")).where(*clauses).order_by(geog.op("<->")(pt_geog)).limit(k).subquery()
        radius = select(func.max(func.ST_Distance(knn.c.g, pt_geog, False))).scalar_subquery()
        dist = self._distance(entity, table, point, "q").label("distance_m")
        return (
            select(*outputs, dist)
            .where(*clauses, func.ST_DWithin(geog, pt_geog, radius * 1.02 + 1.0, False))
            .order_by(func.round(cast(dist, Numeric()), 3), table.c.key)
            .limit(k)
        )

    def nearest(self, kind: str, lon: float, lat: float, *, k: int, where: Where = None) -> gpd.GeoDataFrame:
        entity, table = get_entity(kind), TABLES[kind]
        stmt = self._nearest(entity, table, lon, lat, k, where, self._columns(entity, table))
        return self._frame(entity, stmt, extra=["distance_m"])

    def nearest_per_group(
        self, kind: str, lon: float, lat: float, *, k: int, column: str, values: Sequence[str],
        fields: Sequence[str], where: Where = None,
    ) -> dict[str, list[dict[str, Any]]]:
        entity, table = get_entity(kind), TABLES[kind]
        for name in (column, *fields):
            entity.column(name)
        if not values:
            return {}
        surface = func.ST_PointOnSurface(table.c.geom)
        branches = [
            select(self._nearest(entity, table, lon, lat, k, {**(where or {}), column: value}, [
                literal(n).label("grp"), table.c.key.label("sort_key"), *(table.c[f] for f in fields),
                func.ST_X(surface).label("lon"), func.ST_Y(surface).label("lat"),
            ]).subquery(f"g{n}"))
            for n, value in enumerate(values)
        ]
        with self._reader.connect() as conn:
            rows = conn.execute(union_all(*branches)).all()
        dates = {f for f in fields if entity.column(f).type == "date"}
        out: dict[str, list[dict[str, Any]]] = {v: [] for v in values}
        for row in sorted(rows, key=lambda r: (r.grp, round(r.distance_m, 3), r.sort_key)):
            record = {f: date_text(getattr(row, f)) if f in dates else getattr(row, f) for f in fields}
            out[values[row.grp]].append(record | {"lon": row.lon, "lat": row.lat, "distance_m": row.distance_m})
        return out

    def within_distance(
        self, kind: str, geometry: BaseGeometry, distance_m: float, *, where: Where = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        distance_m = check_distance(distance_m)
        entity, table = get_entity(kind), TABLES[kind]
        geog = cast(table.c.geom, Geography)
        margin = distance_m * 1.02 + 1.0  # the spherical filter is within 0.6 % of ellipsoidal
        dist = self._distance(entity, table, geometry, "q")
        inner = (
            select(*self._columns(entity, table, columns), dist.label("distance_m"))
            .where(
                *self._filters(entity, table, where),
                func.ST_DWithin(geog, cast(_wkb_param("w", geometry), Geography), margin, False),
            )
            .subquery()
        )
        stmt = (
            select(inner)
            .where(inner.c.distance_m <= distance_m)
            .order_by(func.round(cast(inner.c.distance_m, Numeric()), 3), inner.c.key)
        )
        return self._frame(entity, stmt, extra=["distance_m"], columns=columns)

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
        entity, table = get_entity(kind), TABLES[kind]
        pentity, ptable = get_entity(polygon_kind), TABLES[polygon_kind]
        points = table.alias("s")
        polys = ptable.alias("p")
        join_on = and_(func.ST_Intersects(polys.c.geom, points.c.geom),
                       *self._filters(entity, points, where))
        cols: list[ColumnElement[Any]] = [polys.c.key.label("polygon_key")]
        group_by: list[ColumnElement[Any]] = [polys.c.key]
        if group_column:
            entity.column(group_column)
            cols.append(points.c[group_column].label("group"))
            group_by.append(points.c[group_column])
        cols.append(func.count(points.c.key).label("count"))
        if sum_column:
            entity.column(sum_column)
            cols.append(func.sum(cast(points.c[sum_column], Float(precision=53))).label("sum"))
        stmt = (
            select(*cols)
            .select_from(polys.outerjoin(points, join_on))
            .where(*self._filters(pentity, polys, polygon_where))
            .group_by(*group_by)
        )
        with self._reader.connect() as conn:
            result = conn.execute(stmt)
            out = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        if sum_column:
            out["sum"] = pd.to_numeric(out["sum"], errors="coerce")
        return order_counts(out, grouped=group_column is not None, summed=sum_column is not None)

    def _render_tile(self, request: TileRequest) -> bytes:
        r, kind, cluster = request, request.entity.kind, request.cluster
        if cluster is not None:
            spec, _ = cluster.identity(kind, r.where, extent=r.extent)
            if self._cluster_versions.get(spec) != self.data_version(kind):
                self.keep_clusters(kind, cluster, where=r.where, extent=r.extent)
            per_tile = r.extent // cluster.cell
            stmt = self._tile_statement(("cluster", spec, cluster.values), r.layer_name, r.extent,
                                        lambda: self._cluster_rows(spec, cluster, r.extent))
            params: dict[str, Any] = {"cz": r.z, "i0": r.x * per_tile, "j0": r.y * per_tile,
                                      "prefix": f"cluster:{r.z}/"}
        else:
            key = ("features", kind, r.columns, json.dumps(r.where, sort_keys=True, default=str), r.buffer)
            stmt = self._tile_statement(key, r.layer_name, r.extent,
                                        lambda: self._feature_rows(r.entity, r.columns, r.where, r.extent, r.buffer))
            params = {"z": r.z, "x": r.x, "y": r.y}
        with self._reader.connect() as conn:
            value = conn.execute(stmt, params).scalar_one()
        return bytes(value or b"")

    def _tile_statement(self, key: tuple[Any, ...], name: str, extent: int, rows: Any) -> Select[Any]:
        """The tile query (built once per key, name and extent; z/x/y or the cell range are
        its parameters): the rows of ``rows()`` (a subquery with ``geom`` in tile units) as
        one MVT layer ``name``."""
        full_key = (*key, name, extent)
        stmt = self._tile_statements.get(full_key)
        if stmt is None:
            t = rows()
            stmt = select(
                func.ST_AsMVT(literal_column("t.*", type_=None), literal(name), literal(extent), literal("geom"))
            ).select_from(select(t).where(t.c.geom.is_not(None)).subquery("t"))
            self._tile_statements[full_key] = stmt
        return stmt

    def _feature_rows(self, entity: Entity, columns: Sequence[str], where: Where, extent: int, buffer: int) -> Any:
        table = TABLES[entity.kind]
        env = func.ST_TileEnvelope(bindparam("z", type_=Integer), bindparam("x", type_=Integer),
                                   bindparam("y", type_=Integer))
        pad = (func.ST_XMax(env) - func.ST_XMin(env)) * literal(buffer / extent)
        world = literal(MERCATOR_HALF)  # the buffer stops at the world's edge: beyond, it would wrap round
        search = func.ST_Transform(func.ST_MakeEnvelope(
            func.greatest(func.ST_XMin(env) - pad, -world), func.greatest(func.ST_YMin(env) - pad, -world),
            func.least(func.ST_XMax(env) + pad, world), func.least(func.ST_YMax(env) + pad, world), 3857,
        ), STORAGE_SRID)
        mvt_geom = func.ST_AsMVTGeom(
            func.ST_Transform(table.c.geom, 3857), env, literal(extent), literal(buffer), True,
        ).label("geom")
        return (
            select(mvt_geom, *(table.c[c] for c in columns))
            .where(table.c.geom.op("&&")(search), *self._filters(entity, table, where))
            .order_by(table.c.key)
            .subquery("t")
        )

    # -- kept cluster cells ---------------------------------------------------------

    def keep_clusters(self, kind: str, cluster: ClusterSpec, *, where: Where = None, extent: int = 4096) -> None:
        check_where(get_entity(kind), where)
        spec, definition = cluster.identity(kind, where, extent=extent)
        with self.engine.begin() as conn:
            self._cluster_versions[spec] = self._keep_cluster_cells(conn, spec, definition)

    def _cluster_rows(self, spec: str, cluster: ClusterSpec, extent: int) -> Any:
        """The clusters a tile draws (as geo.tiles.cluster_tile_features), read from the
        kept cell counts; parameters ``cz`` (zoom), ``i0``/``j0`` (the tile's first cell)
        and ``prefix`` (of the keys)."""
        cells = cluster_cells.c
        per_tile = extent // cluster.cell
        cell, half = literal(cluster.cell), literal(cluster.cell // 2)
        i0, j0 = bindparam("i0", type_=BigInteger), bindparam("j0", type_=BigInteger)
        return (
            select(
                func.ST_Point((cells.i - i0) * cell + half, (cells.j - j0) * cell + half).label("geom"),
                cells.n.label("count"),
                *(cells.counts[k + 1].label(f"n_{v}") for k, v in enumerate(cluster.values)),
                func.concat(bindparam("prefix", type_=Text), cells.i, "/", cells.j).label("key"),
            )
            .where(
                cells.spec == literal(spec), cells.z == bindparam("cz", type_=Integer),
                cells.i.between(i0 - 1, i0 + per_tile), cells.j.between(j0 - 1, j0 + per_tile),
            )
            .order_by(cells.i, cells.j)
            .subquery("t")
        )

    def _keep_cluster_cells(self, conn: Connection, spec: str, definition: str) -> int:
        """Count the layer's points in the cells of every zoom 0..base zoom, unless the
        kept counts are already of the layer's current version; returns that version."""
        d = json.loads(definition)
        kind = d["kind"]
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(spec))))
        version = int(conn.execute(
            select(layer_versions.c.version).where(layer_versions.c.kind == kind)
        ).scalar_one_or_none() or 0)
        kept = conn.execute(select(cluster_specs.c.version).where(cluster_specs.c.spec == spec)).scalar_one_or_none()
        if kept == version:
            return version
        entity, table = get_entity(kind), TABLES[kind]
        cell, base, values = int(d["cell"]), int(d["base_zoom"]), list(d["values"])
        conn.execute(delete(cluster_cells).where(cluster_cells.c.spec == spec))
        # Tile units of the base zoom, rounded half up, as geo.tiles.cluster_base_cells.
        scale = ((1 << base) * int(d["extent"])) / (2 * MERCATOR_HALF)
        merc = func.ST_Transform(table.c.geom, 3857)
        value = [table.c[d["column"]].label("v")] if d["column"] else []
        points = (
            select(
                cast(func.floor(func.floor((func.ST_X(merc) + MERCATOR_HALF) * scale + 0.5) / cell), BigInteger)
                .label("i"),
                cast(func.floor(func.floor((MERCATOR_HALF - func.ST_Y(merc)) * scale + 0.5) / cell), BigInteger)
                .label("j"),
                *value,
            )
            .where(*self._filters(entity, table, d["where"]))
            .subquery("p")
        )
        per_value = [func.count().filter(points.c.v == bindparam(f"v{k}", v)) for k, v in enumerate(values)]
        columns = ["spec", "z", "i", "j", "n", "counts"]
        conn.execute(insert(cluster_cells).from_select(columns, select(
            literal(spec), literal(base), points.c.i, points.c.j, func.count(), _bigint_array(per_value),
        ).group_by(points.c.i, points.c.j)))
        finer = cluster_cells.c
        for z in range(base - 1, -1, -1):
            sums = [cast(func.sum(finer.counts[k + 1]), BigInteger) for k in range(len(values))]
            i, j = (finer.i // 2).label("i"), (finer.j // 2).label("j")
            conn.execute(insert(cluster_cells).from_select(columns, select(
                literal(spec), literal(z), i, j, cast(func.sum(finer.n), BigInteger), _bigint_array(sums),
            ).where(finer.spec == spec, finer.z == z + 1).group_by(i, j)))
        conn.execute(pg_insert(cluster_specs).values(spec=spec, kind=kind, definition=definition, version=version)
                     .on_conflict_do_update(index_elements=["spec"], set_={"version": version}))
        return version

    def search(self, kind: str, text: str, *, columns: Sequence[str], limit: int = 20,
               where: Where = None) -> gpd.GeoDataFrame:
        entity, table = get_entity(kind), TABLES[kind]
        for name in columns:
            entity.column(name)
        limit = check_rows("limit", limit)
        needle = check_text("search text", text).strip()
        if not needle:
            raise BadInput("empty search text")
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        exact: BindParameter[str] = bindparam("exact", needle)
        prefix: BindParameter[str] = bindparam("prefix", escaped + "%")
        part: BindParameter[str] = bindparam("part", "%" + escaped + "%")
        ranks = [
            case((func.lower(table.c[c]) == func.lower(exact), 0), (table.c[c].ilike(prefix), 1),
                 (table.c[c].ilike(part), 2), else_=3)
            for c in columns
        ]
        rank = func.least(*ranks) if len(ranks) > 1 else ranks[0]
        stmt = (
            select(*self._columns(entity, table))
            .where(rank < 3, *self._filters(entity, table, where))
            .order_by(rank, table.c.key)
            .limit(limit)
        )
        return self._frame(entity, stmt)
