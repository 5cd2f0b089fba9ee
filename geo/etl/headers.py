"""A file's headers: which header is which canonical column, and whether they can feed a kind.

:func:`match_headers` matches headers, Chinese or English, to the canonical columns of
:mod:`geo.entities` through alias tables (plus an optional user mapping);
:func:`check_header_match` refuses a file whose headers cannot feed the kind (a required
column missing or claimed twice, no coordinates or geometry) with :class:`HeaderError`;
:func:`canonical_cells` renames the matched columns to their canonical names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.entities import COMMON_COLUMNS, ENTITIES, Entity, get_entity
from geo.errors import BadInput
from geo.etl.parsing import clean_text, parse_unique
from geo.etl.values import fold_text


class HeaderError(BadInput):
    """The file's headers cannot feed ``kind`` (required columns missing or ambiguous); one line."""


#: Input-only columns: they are turned into the geometry and never stored as such.
POINT_INPUT_COLUMNS = ("lon", "lat")
GEOMETRY_INPUT_COLUMNS = ("datum", "wkt")

# Header aliases, canonical column → headers seen in bureau files (Chinese, English).  An
# alias applies to every kind that has the column.  Each column's own name and its ``zh``
# label in geo.entities are aliases too, without being listed here.
_SHARED_ALIASES: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "统一代码", "uscc"),
    "name": ("名称", "name"),
    "unit_name": ("单位名称", "企业名称", "所属单位", "所属企业"),
    "industry": ("行业", "所属行业", "行业类别", "行业分类", "industry"),
    "address": ("地址", "详细地址", "注册地址", "经营地址", "单位地址", "生产经营地址", "address", "addr"),
    "district": ("所属区", "区县", "所属区县", "区", "行政区", "所属行政区", "district", "county"),
    "township": (
        "街道",
        "乡镇",
        "街道乡镇",
        "乡镇街道",
        "所属街道",
        "所属乡镇",
        "街乡",
        "township",
        "street",
    ),
    "standard_grade": ("标准化等级", "安全生产标准化等级", "标准化级别"),
    "insured": ("是否投保", "安责险", "安全生产责任险", "是否投保安责险", "insured"),
    "level": ("风险等级", "风险级别", "等级", "级别", "level"),
    "likelihood": ("可能性", "l", "可能性l", "事故发生可能性", "likelihood"),
    "severity": ("严重性", "s", "严重性s", "严重程度", "后果严重性", "severity"),
    "source_code": ("风险源编码", "风险点编码", "风险源编号", "风险点编号", "编号", "编码"),
    "source_type": ("风险类型", "风险源类型", "风险点类型", "类型"),
    "site_code": ("场所编码", "场所编号", "编号", "编码"),
    "site_type": ("场所类型", "单位类型", "经营类型", "类型"),
    "chemicals": ("危化品", "危险化学品", "危化品及数量", "危险化学品名称及数量", "chemicals"),
    "major_hazard_grade": ("重大危险源等级", "重大危险源级别"),
    "gas_station_grade": ("加油站等级", "加油站级别"),
    "operating": ("在营", "是否在营", "营业状态", "operating"),
    "external_distance_m": ("外部安全防护距离", "外部安全距离", "防护距离", "externaldistance"),
    "hazard_code": ("隐患编号", "隐患编码", "编号", "编码"),
    "description": ("隐患描述", "隐患内容", "隐患情况", "描述", "description"),
    "found_date": ("发现日期", "排查日期", "发现时间", "排查时间"),
    "deadline": ("整改期限", "整改时限", "整改截止日期", "deadline"),
    "rectified_date": ("整改完成日期", "完成日期", "整改完成时间", "销号日期"),
    "status": ("状态", "整改状态", "整改情况", "status"),
    "resource_code": ("资源编码", "资源编号", "编号", "编码"),
    "resource_type": ("资源类型", "类型", "类别"),
    "speciality": ("专业", "专长", "专业类别", "speciality", "specialty"),
    "capacity": ("人数", "容量", "人数/容量", "队伍人数", "可容纳人数", "capacity"),
    "item_count": ("数量", "物资数量", "装备数量", "物资装备数量", "库存数量", "quantity"),
    "contact": ("联系电话", "联系方式", "电话", "contact", "phone", "tel"),
    "target_code": ("目标编码", "目标编号", "编号", "编码"),
    "target_type": ("目标类型", "防护目标类型", "类型"),
    "sensitivity": ("敏感等级", "敏感程度", "敏感性", "sensitivity"),
    "area_code": ("区划代码", "行政区划代码", "区域代码", "代码", "编码"),
    "area_type": ("区域类型", "类型"),
    "parent_code": ("上级代码", "上级区划代码", "父级代码"),
    "population": ("人口", "常住人口", "population"),
    "line_code": ("线路编码", "管线编码", "编号", "编码"),
    "line_type": ("线路类型", "管线类型", "类型"),
    "operator": ("运营单位", "管理单位", "权属单位", "运营商", "operator"),
    "approximate": ("近似", "是否近似", "approximate"),
    "source": ("来源", "数据来源", "source"),
    "parcel_code": ("地块编号", "地块编码", "地块代码", "编号", "编码"),
    "land_use": ("用地性质", "用地类型", "土地用途"),
    "synthetic": ("合成数据", "演示数据", "是否合成", "synthetic"),
    "lon": ("经度", "东经", "lng", "lon", "long", "longitude", "x"),
    "lat": ("纬度", "北纬", "lat", "latitude", "y"),
    "datum": ("坐标系", "坐标系统", "坐标类型", "datum", "crs"),
    "wkt": ("wkt", "geometry", "geom", "几何", "空间信息", "坐标串"),
}

# Where a header means a different column in one kind, the kind's entry wins.
_KIND_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "units": {"name": ("单位名称", "企业名称", "单位", "企业", "名称", "name")},
    "hazchem_sites": {"name": ("单位名称", "企业名称", "场所名称", "加油站名称", "名称", "name")},
    "risk_sources": {"name": ("风险源名称", "风险点名称", "名称", "name")},
    "hidden_hazards": {"severity": ("隐患级别", "隐患等级", "等级", "级别", "severity")},
    "resources": {"name": ("资源名称", "队伍名称", "专家姓名", "姓名", "名称", "name")},
}


def normalise_header(header: object) -> str:
    """A header folded for matching: half-width, lower case, no spaces, "_" or "-", no BOM,
    no bracketed units ("经度（°）" → "经度") and no required-field marker ("*名称" → "名称")."""
    text = fold_text(str(header).replace("\ufeff", ""))
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", text)
    return re.sub(r"[_\-]", "", text).strip("*:")


def input_columns(kind: str) -> tuple[str, ...]:
    """The canonical columns a file of ``kind`` may carry: the entity's own columns,
    ``synthetic``, and the geometry inputs (``lon``/``lat`` for point kinds, ``datum``, ``wkt``)."""
    entity = get_entity(kind)
    point_inputs = POINT_INPUT_COLUMNS if entity.geometry_type in ("Point", "Geometry") else ()
    return (*(c.name for c in entity.columns), "synthetic", *point_inputs, *GEOMETRY_INPUT_COLUMNS)


def header_aliases(kind: str) -> dict[str, str]:
    """Normalised header → canonical column, for files of ``kind``.

    Raises ``ValueError`` if the alias tables map one header to two columns of
    the kind (a mistake in this module, caught by the tests).
    """
    entity = get_entity(kind)
    zh_labels = {c.name: (c.zh,) for c in (*entity.columns, *COMMON_COLUMNS)}
    overrides = _KIND_ALIASES.get(kind, {})
    lookup: dict[str, str] = {}
    for column in input_columns(kind):
        aliases = overrides.get(column, _SHARED_ALIASES.get(column, ()))
        for alias in (column, *zh_labels.get(column, ()), *aliases):
            key = normalise_header(alias)
            if lookup.setdefault(key, column) != column:
                raise ValueError(f"{kind}: header {alias!r} maps to both {lookup[key]!r} and {column!r}")
    return lookup


#: Every kind's header table, built once from the alias data above.
HEADER_ALIASES: dict[str, dict[str, str]] = {kind: header_aliases(kind) for kind in ENTITIES}


@dataclass(frozen=True)
class HeaderMatch:
    """Which header of a file is which canonical column.

    ``columns`` maps file header → canonical column in file order; ``unknown``
    lists headers that match nothing, ``ignored`` those a mapping set to "";
    ``missing`` the required columns no header provides; ``ambiguous`` the
    columns two or more headers claim (none of them is used: a mapping decides).
    """

    kind: str
    columns: dict[str, str]
    unknown: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every required column is present exactly once."""
        return not self.missing and not self.ambiguous

    @property
    def has_coordinates(self) -> bool:
        """True when the file carries a geometry (lon and lat, or WKT) rather than only addresses."""
        found = set(self.columns.values())
        return {"lon", "lat"} <= found or "wkt" in found

    def header_for(self, column: str) -> str | None:
        """The file header that provides canonical ``column``, or None."""
        return next((h for h, c in self.columns.items() if c == column), None)


def _explicit_mapping(kind: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """A user mapping (file header → canonical, "" to ignore) keyed by normalised header."""
    allowed = set(input_columns(kind))
    for header, column in mapping.items():
        if column and column not in allowed:
            raise BadInput(
                f"mapping sends {header!r} to {column!r}, which is not a {kind} column; "
                f"known: {', '.join(sorted(allowed))}"
            )
    return {normalise_header(header): column for header, column in mapping.items()}


def match_headers(
    headers: Sequence[object],
    kind: str,
    mapping: Mapping[str, str] | None = None,
) -> HeaderMatch:
    """Match a file's ``headers`` to the canonical columns of ``kind``.

    ``mapping`` (file header → canonical column, or "" to ignore a header) comes
    first; a column it assigns is not matched again by alias.  Other headers are
    matched through :data:`HEADER_ALIASES` after :func:`normalise_header`.
    Raises :class:`geo.entities.UnknownEntityError` for an unknown kind and
    ``ValueError`` for a mapping onto a column the kind does not have.
    """
    required = [c.name for c in get_entity(kind).columns if c.required]
    aliases = HEADER_ALIASES[kind]
    explicit = _explicit_mapping(kind, mapping or {})
    claimed = {column for column in explicit.values() if column}
    found: list[tuple[str, str]] = []
    unknown: list[str] = []
    ignored: list[str] = []
    for raw in headers:
        header, key = str(raw), normalise_header(raw)
        if key in explicit and not explicit[key]:
            ignored.append(header)
        elif key in explicit:
            found.append((header, explicit[key]))
        elif key in aliases and aliases[key] not in claimed:
            found.append((header, aliases[key]))
        else:
            unknown.append(header)
    claims = Counter(column for _, column in found)
    columns = {header: column for header, column in found if claims[column] == 1}
    return HeaderMatch(
        kind=kind,
        columns=columns,
        unknown=tuple(unknown),
        ignored=tuple(ignored),
        missing=tuple(c for c in required if claims[c] == 0),
        ambiguous={c: tuple(h for h, col in found if col == c) for c, n in claims.items() if n > 1},
    )


# ----------------------------------------------------------------------- header checks


def column_label(entity: Entity, column: str) -> str:
    """A column as reasons name it: "名称 (name)", or the bare name when it has no Chinese label."""
    zh = entity.column(column).zh if column in entity.column_names else ""
    return f"{zh} ({column})" if zh else column


def effective_required(kind: str, match: HeaderMatch | None = None) -> tuple[str, ...]:
    """Required columns a file of ``kind`` must carry: the entity's, less those the loader
    can derive (risk-source code from the name, site code "main", level from L and S)."""
    entity = get_entity(kind)
    required = [c.name for c in entity.columns if c.required]
    found = set(match.columns.values()) if match else set()
    if kind == "risk_sources":
        required.remove("source_code")
        if {"likelihood", "severity"} <= found:
            required.remove("level")
    if kind == "hazchem_sites":
        required.remove("site_code")
    return tuple(required)


def check_header_match(kind: str, match: HeaderMatch, *, has_geometry: bool) -> list[str]:
    """Raise :class:`HeaderError` when the file cannot feed ``kind``; else return notes
    (ambiguous optional columns that will be ignored).

    Point kinds need lon and lat, an address, district or township (to geocode), or
    geometries; lines, areas and parcels need geometries or a ``wkt`` column (parcels
    also accept lon/lat).
    """
    entity = get_entity(kind)
    found = set(match.columns.values())
    required = effective_required(kind, match)
    missing = [c for c in required if c not in found]
    ambiguous = {c: h for c, h in match.ambiguous.items() if c in required}
    problems = []
    if missing:
        problems.append("no column for required " + ", ".join(column_label(entity, c) for c in missing))
    for column, claimants in ambiguous.items():
        problems.append(f"{column_label(entity, column)} is claimed by several headers ({', '.join(claimants)});"
                        " choose one with --mapping")
    has_points = {"lon", "lat"} <= found
    if entity.geometry_type == "Point":
        if not (has_geometry or has_points or found & {"address", "district", "township"}):
            problems.append("no coordinates: need 经度/纬度 (lon/lat) columns or an address (地址) to geocode")
    elif not (has_geometry or "wkt" in found or (entity.geometry_type == "Geometry" and has_points)):
        problems.append("no geometry: use a GeoJSON/GeoPackage/zipped Shapefile or a wkt column")
    if problems:
        headers = ", ".join(match.columns) or "(none recognised)"
        raise HeaderError("; ".join(problems) + f" [recognised headers: {headers}]")
    return [f"{column_label(entity, c)}: several headers ({', '.join(h)}), all ignored"
            for c, h in match.ambiguous.items() if c not in required]


def canonical_cells(cells: pd.DataFrame, match: HeaderMatch) -> pd.DataFrame:
    """The matched columns renamed to canonical names, text stripped, placeholders → None."""
    data: dict[str, NDArray[np.object_]] = {}
    for header, column in match.columns.items():
        raw = cells[header].to_numpy(dtype=object)
        out, _, _ = parse_unique(raw, clean_text)
        data[column] = out
    # object dtype keeps None as None (pandas would infer Arrow strings with NaN for missing)
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()}, index=range(len(cells)))
