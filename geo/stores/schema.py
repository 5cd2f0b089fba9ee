"""SQLAlchemy tables of the PostGIS store, derived from :mod:`geo.entities`.

Each entity becomes a table with a serial ``fid``, a unique ``key`` (collation "C": rows
come in the same key order as from the embedded store on any database), its columns and
``geom geometry(<type>, 4326)`` with a GiST index, plus a GiST index on
``geom::geography`` for metric KNN and distance filters (not on :data:`UNMEASURED` layers).
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    cast,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from geo.coords import STORAGE_SRID
from geo.entities import ENTITIES, Entity

_SQL_TYPES: dict[str, type[TypeEngine]] = {
    "text": Text,
    "int": BigInteger,
    "float": Float,
    "bool": Boolean,
    "date": Date,
}

metadata = MetaData()

load_batches = Table(
    "riskmap_load_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("note", Text),
)

layer_versions = Table(
    "riskmap_layer_version",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


#: Layers no query measures distances from or to: no geography index to keep up on
#: every write (area results are rewritten by each run and only read by area and drawn).
UNMEASURED = frozenset({"area_results"})


def _entity_table(entity: Entity) -> Table:
    columns = [Column("fid", BigInteger, primary_key=True, autoincrement=True)]
    for col in entity.all_columns:
        sql_type: TypeEngine[Any] = Float(precision=53) if col.type == "float" else _SQL_TYPES[col.type]()
        if col.name == "key":  # byte order, as Python and the embedded store, whatever the database's locale
            sql_type = Text(collation="C")
        columns.append(Column(col.name, sql_type, nullable=col.name != "key", unique=col.name == "key"))
    geom_type = entity.geometry_type.upper()
    columns.append(
        Column("geom", Geometry(geom_type, srid=STORAGE_SRID, spatial_index=True), nullable=False)
    )
    table = Table(entity.table, metadata, *columns)
    if entity.kind not in UNMEASURED:
        Index(f"{entity.table}_geog_idx", cast(table.c.geom, Geography), postgresql_using="gist")
    return table


TABLES: dict[str, Table] = {kind: _entity_table(e) for kind, e in ENTITIES.items()}


#: Kept cluster-cell counts of point layers (geo.tiles.cluster_base_cells), one set per
#: cluster spec and filter, rebuilt with every load of the layer; created by migration 0002.
derived_metadata = MetaData()

cluster_specs = Table(
    "riskmap_cluster_spec",
    derived_metadata,
    Column("spec", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("definition", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
)

cluster_cells = Table(
    "riskmap_cluster_cell",
    derived_metadata,
    Column("spec", Text, primary_key=True),
    Column("z", SmallInteger, primary_key=True),
    Column("i", BigInteger, primary_key=True),
    Column("j", BigInteger, primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("counts", ARRAY(BigInteger), nullable=False),
)

#: The run log (geo.stores.protocol.RunRecord): one row per computation whose results went
#: into a layer, with its parameters; created by migration 0003.
runs = Table(
    "riskmap_runs",
    derived_metadata,
    Column("run_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("run_at", Text, nullable=False),
    Column("params", Text, nullable=False),
)

#: Accounts and the audit trail (geo.stores.accounts); created by migration 0005.
accounts_metadata = MetaData()

users = Table(
    "riskmap_users",
    accounts_metadata,
    Column("name", Text(collation="C"), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", ARRAY(Text), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "riskmap_api_tokens",
    accounts_metadata,
    Column("token_id", Text(collation="C"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("user_name", Text(collation="C"), ForeignKey("riskmap_users.name"), nullable=False, index=True),
    Column("role", Text, nullable=False),
    Column("scope", ARRAY(Text), nullable=False),
    Column("secret_sha256", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

login_failures = Table(
    "riskmap_login_failures",
    accounts_metadata,
    Column("name", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("locked_until", DateTime(timezone=True)),
)

#: Append-only: a trigger of migration 0005 refuses UPDATE, DELETE and TRUNCATE.
audit_log = Table(
    "riskmap_audit_log",
    accounts_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", Text, nullable=False, index=True),
    Column("remote", Text, nullable=False),
    Column("action", Text, nullable=False, index=True),
    Column("target", Text, nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON text: jsonb would re-write numbers
    Column("outcome", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)
