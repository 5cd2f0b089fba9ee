"""The entities the platform stores, declared once.

Every store (PostGIS, the embedded GeoPackage), every loader and every layer reads
its tables and columns from here.  Geometries are always WGS-84 longitude/latitude
(EPSG:4326); CGCS2000 (EPSG:4490) is treated as identical (they differ by < 0.1 m).

Each entity has a natural ``key`` (text, unique) built from the columns in
``Entity.key_columns`` and the columns every entity carries (``COMMON_COLUMNS``):
the load batch that last wrote the row, whether the row is synthetic demo data,
the jurisdiction codes and a content hash used to tell "unchanged" from "updated".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from geo.errors import BadInput, NotFound

ColumnType = Literal["text", "int", "float", "bool", "date"]
GeometryType = Literal["Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "Geometry"]

#: Risk levels, highest first: (code, Chinese, English, colour).
RISK_LEVELS: tuple[tuple[str, str, str, str], ...] = (
    ("red", "重大", "major", "#d7191c"),
    ("orange", "较大", "significant", "#fdae61"),
    ("yellow", "一般", "general", "#ffd700"),
    ("blue", "低", "low", "#2c7bb6"),
)
LEVEL_CODES: tuple[str, ...] = tuple(code for code, *_ in RISK_LEVELS)


@dataclass(frozen=True)
class Column:
    """One attribute column: name, type, Chinese label, and whether a row needs it."""

    name: str
    type: ColumnType = "text"
    zh: str = ""
    required: bool = False


@dataclass(frozen=True)
class Entity:
    """One kind of stored feature (one table / GeoPackage layer)."""

    kind: str
    zh: str
    geometry_type: GeometryType
    key_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.kind

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Own columns followed by the common ones, ``key`` first."""
        return (KEY_COLUMN, *self.columns, *COMMON_COLUMNS)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.all_columns)

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise UnknownColumnError(self.kind, name)


class UnknownEntityError(NotFound):
    """Raised when a kind name is not one of ``ENTITIES``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    def __str__(self) -> str:
        return f"unknown entity kind {self.kind!r}; known: {', '.join(ENTITIES)}"


class UnknownColumnError(BadInput, KeyError):
    """Raised when a filter or query names a column the entity does not have."""

    def __init__(self, kind: str, column: str) -> None:
        super().__init__(column)
        self.kind = kind
        self.column = column

    def __str__(self) -> str:
        return f"entity {self.kind!r} has no column {self.column!r}"


KEY_COLUMN = Column("key", "text", "唯一键", required=True)

COMMON_COLUMNS: tuple[Column, ...] = (
    Column("province_code", "text", "省级区划代码"),
    Column("city_code", "text", "市级区划代码"),
    Column("county_code", "text", "区县区划代码"),
    Column("synthetic", "bool", "合成演示数据"),
    Column("batch_id", "int", "导入批次"),
    Column("row_hash", "text", "内容摘要"),
)

# Columns several entities carry.
_CREDIT_CODE = Column("credit_code", "text", "统一社会信用代码", required=True)
_ADDRESS = Column("address", "text", "地址")
_DISTRICT = Column("district", "text", "所属区")
_TOWNSHIP = Column("township", "text", "街道/乡镇")
_GEOCODE_PRECISION = Column("geocode_precision", "text", "定位精度")
_APPROXIMATE = Column("approximate", "bool", "近似")
_SOURCE = Column("source", "text", "来源")


def _coded(kind: str, zh: str, geometry_type: GeometryType, code: tuple[str, str], *columns: Column,
           description: str = "") -> Entity:
    """An entity keyed by one required text code ``(name, Chinese label)``, its first column."""
    name, label = code
    return Entity(kind, zh, geometry_type, (name,), (Column(name, "text", label, required=True), *columns),
                  description)


ENTITIES: dict[str, Entity] = {
    e.kind: e
    for e in (
        Entity(
            "units",
            "生产经营单位",
            "Point",
            ("credit_code",),
            (
                _CREDIT_CODE,
                Column("name", "text", "单位名称", required=True),
                Column("industry", "text", "行业"),
                _ADDRESS,
                _DISTRICT,
                _TOWNSHIP,
                Column("standard_grade", "text", "标准化等级"),
                Column("insured", "bool", "安责险"),
                _GEOCODE_PRECISION,
            ),
            "Enterprises and other units that report risk sources.",
        ),
        Entity(
            "risk_sources",
            "安全风险源",
            "Point",
            ("credit_code", "source_code"),
            (
                _CREDIT_CODE,
                Column("source_code", "text", "风险源编码", required=True),
                Column("unit_name", "text", "单位名称"),
                Column("name", "text", "风险源名称", required=True),
                Column("source_type", "text", "风险类型"),
                Column("level", "text", "风险等级", required=True),
                Column("likelihood", "int", "可能性"),
                Column("severity", "int", "严重性"),
                Column("industry", "text", "行业"),
                _ADDRESS,
                _DISTRICT,
                _TOWNSHIP,
                _GEOCODE_PRECISION,
            ),
            "Risk sources (安全风险源); level is one of red/orange/yellow/blue.",
        ),
        Entity(
            "hazchem_sites",
            "危险化学品单位",
            "Point",
            ("credit_code", "site_code"),
            (
                _CREDIT_CODE,
                Column("site_code", "text", "场所编码", required=True),
                Column("name", "text", "单位名称", required=True),
                Column("site_type", "text", "类型"),  # production/storage/business/use/gas_station/fireworks
                Column("chemicals", "text", "危化品及数量"),  # JSON list of {name, tonnes}
                Column("major_hazard_grade", "int", "重大危险源等级"),
                Column("gas_station_grade", "int", "加油站等级"),
                Column("operating", "bool", "在营"),
                Column("external_distance_m", "float", "外部安全防护距离(米)"),
                _ADDRESS,
                _DISTRICT,
                _GEOCODE_PRECISION,
            ),
            "Hazardous-chemical units, gas stations and fireworks retail points.",
        ),
        _coded(
            "hidden_hazards", "事故隐患", "Point", ("hazard_code", "隐患编号"),
            Column("credit_code", "text", "统一社会信用代码"),
            Column("unit_name", "text", "单位名称"),
            Column("severity", "text", "隐患级别"),  # major/general
            Column("description", "text", "隐患描述"),
            Column("found_date", "date", "发现日期"),
            Column("deadline", "date", "整改期限"),
            Column("rectified_date", "date", "整改完成日期"),
            Column("status", "text", "状态"),  # open/closed
            _DISTRICT,
            _GEOCODE_PRECISION,
        ),
        _coded(
            "resources", "应急资源", "Point", ("resource_code", "资源编码"),
            Column("name", "text", "名称", required=True),
            # team/expert/equipment_depot/supply_depot/shelter/fire_station/police_station/social
            Column("resource_type", "text", "资源类型", required=True),
            Column("speciality", "text", "专业"),
            Column("capacity", "int", "人数/容量"),
            Column("item_count", "int", "物资装备数量"),
            Column("contact", "text", "联系方式"),
            _ADDRESS,
            _DISTRICT,
            _GEOCODE_PRECISION,
        ),
        _coded(
            "protection_targets", "防护目标", "Point", ("target_code", "目标编码"),
            Column("name", "text", "名称"),
            # school/kindergarten/hospital/university/care_home/residential/crowded_place/...
            Column("target_type", "text", "类型", required=True),
            Column("sensitivity", "text", "敏感等级"),  # high/important/general1/general2/general3
            _DISTRICT,
            _SOURCE,
        ),
        _coded(
            "areas", "区域", "MultiPolygon", ("area_code", "区划/区域代码"),
            Column("name", "text", "名称", required=True),
            # province/city/district/township/community/zone
            Column("area_type", "text", "区域类型", required=True),
            Column("parent_code", "text", "上级代码"),
            _APPROXIMATE,
            Column("population", "float", "人口"),
            _SOURCE,
        ),
        _coded(
            "lines", "线状设施", "MultiLineString", ("line_code", "编码"),
            Column("name", "text", "名称"),
            # oil_pipeline/gas_pipeline/water_pipeline/hazmat_route/ring_road/border
            Column("line_type", "text", "类型", required=True),
            Column("operator", "text", "运营单位"),
            _APPROXIMATE,
            _SOURCE,
        ),
        _coded(
            "parcels", "规划地块", "Geometry", ("parcel_code", "地块编号"),
            Column("name", "text", "名称"),
            Column("land_use", "text", "用地性质"),
            _DISTRICT,
        ),
        Entity(
            "area_results",
            "区域风险",
            "MultiPolygon",
            ("unit", "method", "area_code"),
            (
                Column("unit", "text", "区域单元", required=True),  # district/township/grid/h3
                Column("method", "text", "评估方法", required=True),  # highest/density/composite
                Column("area_code", "text", "区域代码", required=True),
                Column("name", "text", "名称"),
                Column("parent_code", "text", "上级代码"),
                Column("level", "text", "风险等级"),  # red/orange/yellow/blue or null
                Column("score", "float", "风险得分"),
                Column("count_red", "int", "重大风险源数"),
                Column("count_orange", "int", "较大风险源数"),
                Column("count_yellow", "int", "一般风险源数"),
                Column("count_blue", "int", "低风险源数"),
                Column("population", "float", "人口"),
                Column("area_km2", "float", "面积(平方公里)"),
                Column("explanation", "text", "依据"),  # JSON: top sources, components, thresholds
                Column("run_id", "text", "计算批次"),
                Column("run_at", "text", "计算时间"),  # ISO 8601, UTC; parameters: the store's run log
            ),
            "Area risk (区域风险) per unit and method: latest run of geo.capabilities.area_risk.",
        ),
    )
}


def get_entity(kind: str) -> Entity:
    """Return the entity called ``kind``; raise :class:`UnknownEntityError` otherwise."""
    try:
        return ENTITIES[kind]
    except KeyError:
        raise UnknownEntityError(kind) from None


def make_key(values: tuple[object, ...]) -> str:
    """Join natural-key parts into the stored ``key`` text ("a|b")."""
    return "|".join("" if v is None else str(v).strip() for v in values)
