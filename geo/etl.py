"""Turn a raw table of text cells into validated entity rows and a list of problems.

Pure: no files, no store.  :mod:`geo.files.readers` reads a file into text cells with
1-based source row numbers, :func:`geo.validation.match_headers` says which header
is which column, and :func:`validate_table` here returns the rows ready for
``Store.upsert`` (a WGS-84 GeoDataFrame with ``key``) plus every :class:`Issue`:

* ``reject`` — the row is not loaded (a required field is empty, a value does not
  parse, the credit code's check character is wrong, the point is outside
  Jing-Jin-Ji, the key repeats an earlier row, an address cannot be located …);
* ``warning`` — the row is loaded, but something was fixed or looks wrong
  (lon/lat swapped and swapped back, the stated district is not where the point
  is, the stated risk level differs from L × S, an unknown category kept as given).

Every reason is given in Chinese and English.  Work is vectorised per column:
each distinct cell value is parsed once (a 160,000-row file has ~10,000 credit
codes), coordinates go through ``pandas.to_numeric`` first and only the rest
through :func:`geo.validation.parse_coordinate`.

Coordinates:

* point kinds take ``lon``/``lat`` columns (or point geometries of a spatial file);
  a per-row ``datum`` column (坐标系) overrides the file's datum (``datum=``), which
  defaults to WGS-84.  When no datum was stated at all, :func:`geo.coords.guess_datum`
  is run against the rows' stated districts and a file-level warning is added if
  another datum fits decisively (nothing is converted on a guess);
* lines, areas and parcels take the file's geometries or a ``wkt`` column, converted
  from the file's CRS and then from the stated datum to WGS-84 (EPSG:4326);
* swapped lon/lat (:func:`geo.coords.detect_swapped`) are swapped back with a warning;
* rows without coordinates are geocoded from address + district + township with the
  injected geocoder (its results are taken as WGS-84); precision "none" rejects the row.

Natural keys (``key`` by :func:`geo.entities.make_key` over ``Entity.key_columns``):
a risk-source file without a source-code column gets ``source_code = "N:" + name``
(stable while the name is); a hazardous-chemical site without a site code gets
``"main"``.  A key seen earlier in the same file is rejected ("duplicate key, first
at row N"); the first occurrence that passed the checks made before geocoding and
the jurisdiction test is kept.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from geo import coords
from geo.entities import STORAGE_CRS, Entity, get_entity, make_key
from geo.jurisdiction import (
    JurisdictionIndex,
    assign_jurisdiction,
    claimed_polygons,
    district_mismatch,
)
from geo.validation import (
    HeaderMatch,
    ValidationError,
    fold_text,
    is_missing,
    level_from_ls,
    normalise_credit_code,
    normalise_datum,
    normalise_level,
    parse_bool,
    parse_coordinate,
    parse_date,
)

Severity = Literal["reject", "warning"]
#: Row positions (0-based, into the table) and the cell values that go with them.
Positions = Sequence[int] | NDArray[Any]
Values = Sequence[Any] | NDArray[Any] | None
#: Progress callback: (step, done, total); steps are "validate" and "geocode" here.
Progress = Callable[[str, int, int], None]

#: Entity kinds a bureau file can be loaded into (computed results such as area_results are not).
LOADABLE_KINDS: tuple[str, ...] = (
    "units", "risk_sources", "hazchem_sites", "hidden_hazards", "resources", "protection_targets",
    "lines", "areas", "parcels",
)
#: ``geocode_precision`` of rows whose coordinates came with the file.
PRECISION_FROM_FILE = "coordinates"
#: Geocoder precisions loaded with a warning: the point stands for a whole area.
COARSE_PRECISIONS = ("district", "city", "province")
_PRECISION_ZH = {"district": "区县", "city": "城市", "province": "省级"}
#: Prefix of a risk-source code derived from the source's name when the file has none.
DERIVED_SOURCE_CODE_PREFIX = "N:"
#: Site code of a hazardous-chemical unit's only site when the file names none.
DEFAULT_SITE_CODE = "main"
#: Distinct addresses sent to the geocoder per call (progress is reported between calls).
GEOCODE_CHUNK = 5000

_POINT_KINDS_GEOMETRY = "Point"


class GeocodeResult(Protocol):
    """What the loader needs from one geocoding result (WGS-84 degrees; read-only is enough)."""

    @property
    def lon(self) -> float | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def precision(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class Geocoder(Protocol):
    """Anything with ``geocode_many(addresses) -> results`` (one result per address, in order)."""

    def geocode_many(self, addresses: Sequence[str]) -> Sequence[GeocodeResult]: ...


class HeaderError(ValueError):
    """The file's headers cannot feed ``kind`` (required columns missing or ambiguous); one line."""


@dataclass(frozen=True)
class Issue:
    """One problem with one row (or with the whole file when ``row`` is None).

    ``column`` is the canonical column, ``header`` the file's header for it,
    ``value`` the cell text as read.
    """

    row: int | None
    column: str | None
    header: str | None
    value: str | None
    reason: str
    reason_zh: str
    severity: Severity


@dataclass
class EtlResult:
    """Validated rows and the problems found.

    ``features``: WGS-84 GeoDataFrame with ``key``, the entity's columns and
    ``geometry``, ready for ``Store.upsert``; ``rows``: the source row number of each
    feature; ``issues``: every reject and warning in row order, file-level ones
    (row None) first; ``rejected``/``warned``: distinct rows rejected / loaded with a
    warning; ``geocoded``: rows placed by the geocoder.
    """

    kind: str
    features: gpd.GeoDataFrame
    rows: NDArray[np.int64]
    issues: list[Issue]
    total: int
    rejected: int
    warned: int
    geocoded: int = 0
    datum_used: str = "wgs84"
    datum_guess: coords.DatumGuess | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class Vocabulary:
    """Codes of a categorical column with the words bureau files use for them.

    An ``open`` vocabulary keeps an unknown value as given (with a warning); a closed
    one rejects it.  Lower-case ASCII identifiers ("police_station") are always taken
    as codes in an open vocabulary.
    """

    codes: Mapping[str, tuple[str, ...]]
    open: bool = False

    def lookup(self) -> dict[str, str]:
        table = {}
        for code, words in self.codes.items():
            for word in (code, *words):
                table[fold_text(word)] = code
        return table

    def accepted(self) -> str:
        return ", ".join(f"{code} ({'/'.join(words[:2])})" for code, words in self.codes.items())


_GRADE_WORDS = {1: ("一级", "1级", "i级", "ⅰ级", "i"), 2: ("二级", "2级", "ii级", "ⅱ级", "ii"),
                3: ("三级", "3级", "iii级", "ⅲ级", "iii"), 4: ("四级", "4级", "iv级", "ⅳ级", "iv")}

#: (kind or "*", column) → vocabulary.  Codes follow geo.entities and geo.reference.
VOCABULARIES: dict[tuple[str, str], Vocabulary] = {
    ("*", "site_type"): Vocabulary({
        "production": ("生产", "生产企业", "生产单位", "危化品生产"),
        "storage": ("储存", "仓储", "储存企业", "储存单位", "仓储企业"),
        "business": ("经营", "经营企业", "经营单位", "批发", "带储存经营", "不带储存经营"),
        "use": ("使用", "使用企业", "使用单位"),
        "gas_station": ("加油站", "加油加气站", "加气站", "gas station"),
        "fireworks": ("烟花爆竹", "烟花爆竹零售", "烟花爆竹零售点", "烟花"),
    }, open=True),
    ("*", "resource_type"): Vocabulary({
        "team": ("救援队伍", "应急救援队伍", "队伍", "救援队", "专业救援队伍"),
        "expert": ("专家", "应急专家"),
        "equipment_depot": ("装备库", "应急装备库", "装备储备库", "装备"),
        "supply_depot": ("物资库", "应急物资库", "物资储备库", "物资"),
        "shelter": ("避难场所", "应急避难场所", "避难所"),
        "fire_station": ("消防站", "消防救援站", "消防队"),
        "police_station": ("派出所", "公安派出所"),
        "social": ("社会资源", "社会应急资源"),
    }, open=True),
    ("*", "target_type"): Vocabulary({
        "school": ("学校", "中小学", "小学", "中学"),
        "kindergarten": ("幼儿园", "托儿所"),
        "hospital": ("医院", "卫生院", "医疗机构"),
        "university": ("大学", "高校", "高等院校"),
        "college": ("学院", "职业学院", "高职"),
        "care_home": ("养老院", "敬老院", "养老机构", "福利院"),
        "prison": ("监狱", "看守所"),
        "residential": ("居民区", "居住区", "住宅区", "小区", "社区"),
        "crowded_place": ("人员密集场所", "商场", "体育场馆", "体育馆", "车站", "公共场所"),
        "cultural_relic": ("文物保护单位", "文物"),
        "military": ("军事设施", "军事管理区"),
        "industrial_landuse": ("工业用地",),
    }, open=True),
    ("*", "sensitivity"): Vocabulary({
        "high": ("高敏感", "高敏感防护目标", "高敏感目标", "高"),
        "important": ("重要", "重要防护目标", "重要目标"),
        "general1": ("一般一类", "一般防护目标一类", "一般1类", "一类"),
        "general2": ("一般二类", "一般防护目标二类", "一般2类", "二类"),
        "general3": ("一般三类", "一般防护目标三类", "一般3类", "三类"),
    }),
    ("hidden_hazards", "severity"): Vocabulary({
        "major": ("重大", "重大隐患", "重大事故隐患"),
        "general": ("一般", "一般隐患", "一般事故隐患"),
    }),
    ("*", "status"): Vocabulary({
        "closed": ("已整改", "整改完成", "已完成", "已销号", "销号", "已闭环", "闭环", "rectified", "done"),
        "open": ("未整改", "整改中", "待整改", "正在整改", "未完成", "未销号", "pending"),
    }),
    ("*", "area_type"): Vocabulary({
        "province": ("省", "省级", "直辖市"),
        "city": ("市", "地级市", "市级"),
        "district": ("区", "县", "区县", "县级", "区/县"),
        "township": ("街道", "乡镇", "乡", "镇", "街乡", "街道乡镇"),
        "community": ("社区", "村", "村居", "社区村"),
        "zone": ("园区", "功能区", "区域", "片区"),
    }),
    ("*", "line_type"): Vocabulary({
        "oil_pipeline": ("输油管道", "输油管线", "原油管道", "成品油管道", "石油管道"),
        "gas_pipeline": ("输气管道", "燃气管道", "天然气管道", "燃气管线", "输气管线"),
        "water_pipeline": ("输水管道", "供水管道", "给水管道"),
        "hazmat_route": ("危化品运输路线", "危险货物运输路线", "危险化学品运输路线", "危化品运输通道", "危运路线"),
        "ring_road": ("环路", "环线"),
        "border": ("边界", "界线", "行政边界"),
    }, open=True),
}

#: Integer columns with a closed range (and word forms for grades).
_INT_RANGES: dict[str, tuple[int, int]] = {
    "likelihood": (1, 5),
    "major_hazard_grade": (1, 4),
    "gas_station_grade": (1, 3),
}
_NON_NEGATIVE = ("capacity", "item_count", "external_distance_m", "population")
_ASCII_CODE = re.compile(r"[a-z][a-z0-9_]*")


# ------------------------------------------------------------------------------- collector


class _Issues:
    """Problems per row position, collected column by column."""

    def __init__(self, rows: NDArray[np.int64], headers: Mapping[str, str]) -> None:
        self.rows = rows
        self.headers = headers
        self.rejected = np.zeros(len(rows), dtype=bool)
        self.warned = np.zeros(len(rows), dtype=bool)
        self.items: list[tuple[int, int, str | None, str | None, str, str, Severity]] = []
        self.file_level: list[Issue] = []
        self._seq = 0

    def add(
        self,
        positions: Positions,
        column: str | None,
        values: Values,
        reason: str,
        reason_zh: str,
        *,
        severity: Severity = "reject",
    ) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size == 0:
            return
        (self.rejected if severity == "reject" else self.warned)[positions] = True
        vals = values if values is not None else [None] * len(positions)
        for pos, value in zip(positions.tolist(), vals, strict=True):
            self._seq += 1
            text = None if value is None else str(value)
            self.items.append((pos, self._seq, column, text, reason, reason_zh, severity))

    def add_error(self, positions: Positions, column: str, values: Values, err: ValidationError) -> None:
        self.add(positions, column, values, err.reason, err.reason_zh)

    def note(self, reason: str, reason_zh: str, *, column: str | None = None, severity: Severity = "warning") -> None:
        header = self.headers.get(column) if column else None
        self.file_level.append(Issue(None, column, header, None, reason, reason_zh, severity))

    def issues(self) -> list[Issue]:
        ordered = sorted(self.items, key=lambda item: (item[0], item[1]))
        out = list(self.file_level)
        for pos, _, column, value, reason, reason_zh, severity in ordered:
            header = self.headers.get(column) if column else None
            out.append(Issue(int(self.rows[pos]), column, header, value, reason, reason_zh, severity))
        return out


# ---------------------------------------------------------------------------- cell parsing


ParseFn = Callable[[str], Any]


def _parse_unique(
    values: NDArray[np.object_], parse: ParseFn
) -> tuple[NDArray[np.object_], dict[int, ValidationError], NDArray[np.intp]]:
    """Parse each distinct non-empty value once: (parsed per row, errors by unique index, codes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed: list[Any] = []
    errors: dict[int, ValidationError] = {}
    for i, value in enumerate(uniques):
        try:
            parsed.append(parse(value))
        except ValidationError as err:
            errors[i] = err
            parsed.append(None)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = parsed
    table[len(uniques)] = None
    return table[codes], errors, codes


def _apply_parser(
    cells: pd.DataFrame, column: str, parse: ParseFn, issues: _Issues
) -> NDArray[np.object_]:
    """Parsed values of ``column`` (None where empty or bad); bad cells are rejected."""
    raw = cells[column].to_numpy(dtype=object)
    out, errors, codes = _parse_unique(raw, parse)
    for unique, err in errors.items():
        positions = np.flatnonzero(codes == unique)
        issues.add_error(positions, column, raw[positions], err)
    return out


def _clean_text(value: object) -> str | None:
    """Cell text without surrounding whitespace; empty and placeholders ("-", "/", "null") → None."""
    if value is None:
        return None
    text = str(value).strip()
    # placeholders are at most four characters; longer text never needs the (slower) check
    return None if len(text) <= 6 and is_missing(text) else text


def _number(text: str) -> float:
    return float(unicodedata.normalize("NFKC", text).replace(",", "").strip())


def _int_parser(column: str) -> ParseFn:
    low_high = _INT_RANGES.get(column)
    grades = {fold_text(w): n for n, words in _GRADE_WORDS.items() for w in words} if column.endswith("_grade") else {}

    def parse(text: str) -> int:
        folded = fold_text(text)
        if folded in grades:
            number = float(grades[folded])
        else:
            try:
                number = _number(text)
            except ValueError:
                raise ValidationError(text, "not a whole number", "不是整数") from None
        if not math.isfinite(number) or number != int(number):
            raise ValidationError(text, "not a whole number", "不是整数")
        value = int(number)
        if low_high and not low_high[0] <= value <= low_high[1]:
            raise ValidationError(
                text, f"must be between {low_high[0]} and {low_high[1]}", f"应在{low_high[0]}–{low_high[1]}之间"
            )
        if column in _NON_NEGATIVE and value < 0:
            raise ValidationError(text, "must not be negative", "不能为负数")
        return value

    return parse


def _float_parser(column: str) -> ParseFn:
    def parse(text: str) -> float:
        try:
            number = _number(text)
        except ValueError:
            raise ValidationError(text, "not a number", "不是数字") from None
        if not math.isfinite(number):
            raise ValidationError(text, "not a finite number", "不是有效数字")
        if column in _NON_NEGATIVE and number < 0:
            raise ValidationError(text, "must not be negative", "不能为负数")
        return number

    return parse


def _date_parser(text: str) -> str | None:
    parsed = parse_date(text)
    return None if parsed is None else parsed.isoformat()


def _bool_parser(text: str) -> bool | None:
    return parse_bool(text)


_NOT_IN_VOCABULARY = object()


def _vocabulary_parser(vocab: Vocabulary, column: str) -> ParseFn:
    table = vocab.lookup()

    def parse(text: str) -> object:
        folded = fold_text(text)
        code = table.get(folded) or table.get(folded.replace(" ", "_"))
        if code:
            return code
        if vocab.open and _ASCII_CODE.fullmatch(folded):
            return folded
        if vocab.open:
            return _NOT_IN_VOCABULARY
        raise ValidationError(text, f"unknown {column}; accepted: {vocab.accepted()}",
                              f"无法识别的取值，可用：{'、'.join(w[0] for w in vocab.codes.values())}")

    return parse


def _vocabulary(kind: str, column: str) -> Vocabulary | None:
    return VOCABULARIES.get((kind, column)) or VOCABULARIES.get(("*", column))


def _parser_for(entity: Entity, column: str) -> ParseFn:
    if column == "credit_code":
        return normalise_credit_code
    if column == "level":
        return normalise_level
    if column == "synthetic":
        return _bool_parser
    vocab = _vocabulary(entity.kind, column)
    if vocab is not None:
        return _vocabulary_parser(vocab, column)
    if entity.kind == "risk_sources" and column == "severity":
        return _int_parser("likelihood")  # same 1–5 scale
    ctype = entity.column(column).type
    if ctype == "int":
        return _int_parser(column)
    if ctype == "float":
        return _float_parser(column)
    if ctype == "bool":
        return _bool_parser
    if ctype == "date":
        return _date_parser
    return lambda text: text


# --------------------------------------------------------------------------------- headers


def _label(entity: Entity, column: str) -> str:
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
        problems.append("no column for required " + ", ".join(_label(entity, c) for c in missing))
    for column, claimants in ambiguous.items():
        problems.append(f"{_label(entity, column)} is claimed by several headers ({', '.join(claimants)});"
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
    return [f"{_label(entity, c)}: several headers ({', '.join(h)}), all ignored"
            for c, h in match.ambiguous.items() if c not in required]


def canonical_cells(cells: pd.DataFrame, match: HeaderMatch) -> pd.DataFrame:
    """The matched columns renamed to canonical names, text stripped, placeholders → None."""
    data: dict[str, NDArray[np.object_]] = {}
    for header, column in match.columns.items():
        raw = cells[header].to_numpy(dtype=object)
        out, _, _ = _parse_unique(raw, _clean_text)
        data[column] = out
    # object dtype keeps None as None (pandas would infer Arrow strings with NaN for missing)
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()}, index=range(len(cells)))


# ------------------------------------------------------------------------------ geometry


def _coordinate_array(cells: pd.DataFrame, column: str, issues: _Issues) -> NDArray[np.float64]:
    """Decimal degrees per row, NaN where empty or bad (bad cells rejected)."""
    raw = cells[column].to_numpy(dtype=object)
    fast = np.array(pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce"), dtype=np.float64)
    slow = np.flatnonzero(np.isnan(fast) & pd.notna(raw))
    if slow.size:
        parsed = _apply_parser(cells.iloc[slow].reset_index(drop=True), column, parse_coordinate,
                               _ShiftedIssues(issues, slow))
        fast[slow] = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
    return fast


class _ShiftedIssues(_Issues):
    """Issues for a subset of rows, reported against the full table's positions."""

    def __init__(self, parent: _Issues, positions: NDArray[np.int64]) -> None:
        self.parent = parent
        self.positions = positions

    def add(self, positions: Positions, column: str | None, values: Values,
            reason: str, reason_zh: str, *, severity: Severity = "reject") -> None:
        self.parent.add(self.positions[np.asarray(positions, dtype=np.int64)], column, values, reason, reason_zh,
                        severity=severity)


def _datum_per_row(
    cells: pd.DataFrame, n: int, default: str, issues: _Issues
) -> NDArray[np.object_]:
    """Datum code per row: the row's 坐标系 when given and known, else ``default``."""
    datums = np.full(n, default, dtype=object)
    if "datum" in cells:
        parsed = _apply_parser(cells, "datum", normalise_datum, issues)
        given = np.array([v is not None for v in parsed], dtype=bool)
        datums[given] = parsed[given]
    return datums


def _convert_points(lon: NDArray[np.float64], lat: NDArray[np.float64], datums: NDArray[np.object_],
                    mask: NDArray[np.bool_]) -> None:
    """Convert the rows in ``mask`` from their datum to WGS-84, in place."""
    for datum in sorted({str(d) for d in datums[mask]}):
        rows = mask & (datums == datum)
        if datum in ("wgs84", "cgcs2000") or not rows.any():
            continue
        x, y = coords.convert(lon[rows], lat[rows], src=datum, dst="wgs84")
        lon[rows], lat[rows] = x, y


_JJJ_TEXT = "outside Jing-Jin-Ji (113.4–119.9°E, 36.0–42.7°N)"
_JJJ_TEXT_ZH = "坐标不在京津冀范围内（东经113.4–119.9°，北纬36.0–42.7°）"


def _point_coordinates(
    cells: pd.DataFrame,
    geometry: NDArray[np.object_] | None,
    crs: str | None,
    datums: NDArray[np.object_],
    issues: _Issues,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """(lon, lat, has_coordinates) in WGS-84 for point rows; rows with a problem are rejected."""
    n = len(cells)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if geometry is not None:
        geoms = np.asarray(geometry, dtype=object)
        present = ~shapely.is_missing(geoms)
        types = np.full(n, -1)
        types[present] = shapely.get_type_id(geoms[present])
        not_point = present & (types != 0)
        issues.add(np.flatnonzero(not_point), "geometry", shapely.get_type_id(geoms[not_point]).astype(str),
                   "expected a point geometry", "应为点几何")
        points = present & (types == 0)
        lon[points] = shapely.get_x(geoms[points])
        lat[points] = shapely.get_y(geoms[points])
        transformer = _geometry_transformer(crs)
        if transformer is not None and points.any():
            lon[points], lat[points] = transformer.transform(lon[points], lat[points])
    if "lon" in cells and "lat" in cells:
        from_cells = np.isnan(lon)
        clon = _coordinate_array(cells, "lon", issues)
        clat = _coordinate_array(cells, "lat", issues)
        lon[from_cells] = clon[from_cells]
        lat[from_cells] = clat[from_cells]
        half = np.isnan(lon) != np.isnan(lat)
        half_pos = np.flatnonzero(half & ~issues.rejected)
        issues.add(half_pos, "lon", None,
                   "only one of longitude and latitude is given", "经度、纬度只填了一个")
        lon[half] = np.nan
        lat[half] = np.nan
    has = ~np.isnan(lon) & ~np.isnan(lat)
    swapped = coords.detect_swapped(lon, lat)
    if swapped.any():
        pos = np.flatnonzero(swapped)
        issues.add(pos, "lon", [f"{a}, {b}" for a, b in zip(lon[pos], lat[pos], strict=True)],
                   "longitude and latitude were swapped; swapped back", "经纬度填反，已自动更正", severity="warning")
        lon[swapped], lat[swapped] = lat[swapped].copy(), lon[swapped].copy()
    _convert_points(lon, lat, datums, has)
    minx, miny, maxx, maxy = coords.JJJ_BBOX
    outside = has & ~((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
    pos = np.flatnonzero(outside)
    raw_lon = cells["lon"].to_numpy(dtype=object) if "lon" in cells else lon
    raw_lat = cells["lat"].to_numpy(dtype=object) if "lat" in cells else lat
    issues.add(pos, "lon", [f"{raw_lon[p]}, {raw_lat[p]}" for p in pos], _JJJ_TEXT, _JJJ_TEXT_ZH)
    return lon, lat, has


def _geometry_transformer(crs: str | None) -> Transformer | None:
    """A transformer from ``crs`` to WGS-84 lon/lat, or None when it already is (or CGCS2000)."""
    if crs is None:
        return None
    source = CRS.from_user_input(crs)
    if source.is_geographic and (
        source.to_epsg() in (4326, 4490) or source.equals(CRS.from_epsg(4326), ignore_axis_order=True)
    ):
        return None
    return Transformer.from_crs(source, STORAGE_CRS, always_xy=True)


def _swap_xy(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
    return coordinates[:, ::-1].copy()


_GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "MultiLineString": ("LineString", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
    "Geometry": ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"),
}


def _shape_geometries(
    entity: Entity,
    cells: pd.DataFrame,
    geometry: NDArray[np.object_] | None,
    crs: str | None,
    datums: NDArray[np.object_],
    issues: _Issues,
) -> NDArray[np.object_]:
    """WGS-84 line/polygon geometries per row (None where rejected)."""
    n = len(cells)
    geoms = np.full(n, None, dtype=object)
    if geometry is not None:
        geoms[:] = np.asarray(geometry, dtype=object)
        transformer = _geometry_transformer(crs)
        present = ~shapely.is_missing(geoms)
        if transformer is not None and present.any():
            geoms[present] = shapely.transform(
                geoms[present], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
            )
    if "wkt" in cells:
        raw = cells["wkt"].to_numpy(dtype=object)
        todo = shapely.is_missing(geoms) & pd.notna(raw)
        if todo.any():
            parsed = shapely.from_wkt(raw[todo].astype(str), on_invalid="ignore")
            geoms[todo] = parsed
            bad = np.flatnonzero(todo)[shapely.is_missing(parsed)]
            issues.add(bad, "wkt", raw[bad], "not valid WKT geometry text", "不是有效的WKT几何文本")
    if entity.geometry_type == "Geometry" and "lon" in cells and "lat" in cells:
        todo = shapely.is_missing(geoms) & ~issues.rejected
        if todo.any():
            lon = _coordinate_array(cells, "lon", issues)
            lat = _coordinate_array(cells, "lat", issues)
            ok = todo & ~np.isnan(lon) & ~np.isnan(lat)
            geoms[ok] = shapely.points(lon[ok], lat[ok])
    missing = shapely.is_missing(geoms) & ~issues.rejected
    issues.add(np.flatnonzero(missing), "geometry", None, "no geometry", "缺少几何图形")
    present = ~shapely.is_missing(geoms)
    geoms[present] = shapely.force_2d(geoms[present])
    # type
    allowed = _GEOMETRY_TYPES.get(entity.geometry_type, (entity.geometry_type,))
    type_names = np.full(n, None, dtype=object)
    type_names[present] = np.asarray(shapely.get_type_id(geoms[present]))
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                      "MultiPolygon", "GeometryCollection"], dtype=object)
    type_names[present] = names[type_names[present].astype(int)]
    wrong = present & ~np.isin(type_names.astype(str), allowed)
    issues.add(np.flatnonzero(wrong), "geometry", type_names[wrong],
               f"expected {' or '.join(allowed)} geometry", f"几何类型应为{'/'.join(allowed)}")
    geoms[wrong] = None
    present &= ~wrong
    empty = present.copy()
    empty[present] = shapely.is_empty(geoms[present])
    issues.add(np.flatnonzero(empty), "geometry", None, "empty geometry", "几何图形为空")
    geoms[empty] = None
    present &= ~empty
    # swapped: judged on a representative point of each geometry
    if present.any():
        rep = shapely.point_on_surface(geoms[present])
        swapped_sub = coords.detect_swapped(shapely.get_x(rep), shapely.get_y(rep))
        if swapped_sub.any():
            idx = np.flatnonzero(present)[swapped_sub]
            geoms[idx] = shapely.transform(geoms[idx], _swap_xy)
            issues.add(idx, "geometry", None, "longitude and latitude were swapped; swapped back",
                       "经纬度填反，已自动更正", severity="warning")
    # datum
    for datum in sorted({str(d) for d in datums[present]}):
        if datum in ("wgs84", "cgcs2000"):
            continue
        idx = np.flatnonzero(present & (datums == datum))
        geoms[idx] = shapely.transform(
            geoms[idx], lambda xy, d=datum: np.column_stack(coords.convert(xy[:, 0], xy[:, 1], src=d, dst="wgs84"))
        )
    # validity: polygons are repaired (with a warning) when the repair stays polygonal
    if present.any():
        invalid = present.copy()
        invalid[present] = ~shapely.is_valid(geoms[present])
        for i in np.flatnonzero(invalid):
            fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
            if fixed.is_empty or fixed.geom_type not in allowed:
                issues.add([int(i)], "geometry", None, "invalid geometry that cannot be repaired",
                           "几何图形无效且无法修复")
                geoms[i] = None
            else:
                geoms[i] = fixed
                issues.add([int(i)], "geometry", None, "invalid geometry (e.g. self-intersecting) repaired",
                           "几何图形无效（如自相交），已修复", severity="warning")
        present &= ~shapely.is_missing(geoms)
    # region
    if present.any():
        outside = present.copy()
        outside[present] = ~shapely.intersects(geoms[present], shapely.box(*coords.JJJ_BBOX))
        issues.add(np.flatnonzero(outside), "geometry", None, _JJJ_TEXT, _JJJ_TEXT_ZH)
    return geoms


# ------------------------------------------------------------------------------ geocoding


def _geocode_queries(cells: pd.DataFrame, rows: NDArray[np.int64]) -> list[str | None]:
    """Address text for geocoding: the address, prefixed by district and township when it
    does not already name them; None when the row has none of the three."""
    n = len(cells)
    empty = np.full(n, None, dtype=object)
    address = cells["address"].to_numpy(dtype=object) if "address" in cells else empty
    district = cells["district"].to_numpy(dtype=object) if "district" in cells else empty
    township = cells["township"].to_numpy(dtype=object) if "township" in cells else empty
    out: list[str | None] = []
    for i in rows:
        a, d, t = address[i], district[i], township[i]
        parts = [p for p in (d, t) if p and (a is None or p not in a)]
        if a:
            parts.append(a)
        out.append("".join(parts) if parts else None)
    return out


def _geocode(
    geocoder: Geocoder,
    queries: Sequence[str],
    progress: Progress | None,
) -> list[GeocodeResult]:
    """Results for distinct ``queries`` in order, in chunks of :data:`GEOCODE_CHUNK`."""
    results: list[GeocodeResult] = []
    for start in range(0, len(queries), GEOCODE_CHUNK):
        chunk = list(queries[start : start + GEOCODE_CHUNK])
        found = list(geocoder.geocode_many(chunk))
        if len(found) != len(chunk):
            raise ValueError(f"geocoder returned {len(found)} results for {len(chunk)} addresses")
        results.extend(found)
        if progress:
            progress("geocode", min(start + GEOCODE_CHUNK, len(queries)), len(queries))
    return results


# --------------------------------------------------------------------------------- main


def validate_table(
    kind: str,
    cells: pd.DataFrame,
    rows: Sequence[int] | NDArray[np.int64],
    match: HeaderMatch,
    *,
    geometry: Sequence[Any] | NDArray[np.object_] | None = None,
    geometry_crs: str | None = None,
    datum: str | None = None,
    jurisdiction: JurisdictionIndex | None = None,
    geocoder: Geocoder | None = None,
    progress: Progress | None = None,
) -> EtlResult:
    """Validate a raw table of ``kind`` (see the module docstring).

    ``cells``: text cells under the file's headers; ``rows``: source row numbers;
    ``match``: from :func:`geo.validation.match_headers`; ``geometry``/``geometry_crs``:
    the file's geometries and their CRS (spatial formats); ``datum``: the datum of
    coordinates in the file (None: not stated, WGS-84 assumed and checked);
    ``jurisdiction``: reference areas for codes, the Jing-Jin-Ji test and the
    stated-district check (None skips them); ``geocoder``: for rows without
    coordinates (None rejects them).  Raises :class:`HeaderError` when the headers
    cannot feed ``kind`` and ``ValueError`` for an unknown ``datum``.
    """
    entity = get_entity(kind)
    if kind not in LOADABLE_KINDS:
        raise ValueError(f"{kind} is not loaded from files; loadable kinds: {', '.join(LOADABLE_KINDS)}")
    rows_arr = np.asarray(rows, dtype=np.int64)
    n = len(cells)
    if len(rows_arr) != n:
        raise ValueError(f"{len(rows_arr)} row numbers for {n} rows")
    geom_arr = None if geometry is None else np.asarray(geometry, dtype=object)
    notes = check_header_match(kind, match, has_geometry=geom_arr is not None)
    default_datum = "wgs84" if datum is None else normalise_datum(datum)
    cells = canonical_cells(cells, match)
    headers = {column: header for header, column in match.columns.items()}
    issues = _Issues(rows_arr, headers)
    for note in notes:
        issues.note(note, "表头有歧义，已忽略")
    if match.unknown:
        issues.note(f"columns not loaded (no matching field): {', '.join(match.unknown)}",
                    f"以下列未导入（无对应字段）：{'、'.join(match.unknown)}")

    def step(done: int, total: int) -> None:
        if progress:
            progress("validate", n * done // total, n)  # in rows, so callers can show one scale

    # --- attribute columns
    values: dict[str, NDArray[np.object_]] = {}
    attribute_columns = [c.name for c in entity.columns if c.name in cells]
    if "synthetic" in cells:
        attribute_columns.append("synthetic")
    total_steps = len(attribute_columns) + 3
    for i, column in enumerate(attribute_columns):
        parsed = _apply_parser(cells, column, _parser_for(entity, column), issues)
        if any(v is _NOT_IN_VOCABULARY for v in parsed):
            unknown = np.array([v is _NOT_IN_VOCABULARY for v in parsed], dtype=bool)
            raw = cells[column].to_numpy(dtype=object)
            parsed[unknown] = raw[unknown]
            vocab = _vocabulary(kind, column)
            accepted = vocab.accepted() if vocab else ""
            issues.add(np.flatnonzero(unknown), column, raw[unknown],
                       f"unknown category kept as given; known: {accepted}", "未知类别，按原文保留",
                       severity="warning")
        values[column] = parsed
        step(i + 1, total_steps)
    _derive_columns(kind, values, issues, n)
    _check_required(entity, cells, values, issues)
    step(len(attribute_columns) + 1, total_steps)

    # --- geometry from the file (coordinates, WKT, spatial formats); then keys and duplicates
    # among the rows that passed so far, so the geocoder never sees a duplicate
    keys = _keys(entity, values, n)
    datums = _datum_per_row(cells, n, default_datum, issues)
    geocoded = 0
    guess: coords.DatumGuess | None = None
    if entity.geometry_type == _POINT_KINDS_GEOMETRY:
        precision = values.setdefault("geocode_precision", np.full(n, None, dtype=object))
        lon, lat, has = _point_coordinates(cells, geom_arr, geometry_crs, datums, issues)
        precision[has & pd.isna(precision)] = PRECISION_FROM_FILE
        _reject_duplicates(keys, issues, rows_arr)
        need = np.flatnonzero(~has & ~issues.rejected)
        if need.size:
            geocoded = _place_by_geocoder(cells, need, lon, lat, precision, geocoder, issues, progress)
        geoms = np.full(n, None, dtype=object)
        ok = ~np.isnan(lon) & ~np.isnan(lat)
        geoms[ok] = shapely.points(lon[ok], lat[ok])
        if jurisdiction is not None and datum is None and "datum" not in cells and "district" in values:
            guess = _check_datum(jurisdiction, lon, lat, has & ~issues.rejected, values["district"], issues)
    else:
        geoms = _shape_geometries(entity, cells, geom_arr, geometry_crs, datums, issues)
        _reject_duplicates(keys, issues, rows_arr)
    step(len(attribute_columns) + 2, total_steps)

    # --- jurisdiction
    codes: dict[str, NDArray[np.object_]] = {}
    if jurisdiction is not None and not jurisdiction.empty:
        codes = _place(kind, jurisdiction, geoms, values, issues)
    step(total_steps, total_steps)

    keep = ~issues.rejected & ~shapely.is_missing(geoms)
    features = _features(entity, values, keys, geoms, codes, keep)
    return EtlResult(
        kind=kind,
        features=features,
        rows=rows_arr[keep],
        issues=issues.issues(),
        total=n,
        rejected=int(issues.rejected.sum()),
        warned=int((issues.warned & keep).sum()),
        geocoded=geocoded,
        datum_used=default_datum,
        datum_guess=guess,
        notes=[f"{i.reason} ({i.reason_zh})" for i in issues.file_level],
    )


def _derive_columns(kind: str, values: dict[str, NDArray[np.object_]], issues: _Issues, n: int) -> None:
    """Fill what can be derived: synthetic (False), risk level from L × S, source and site
    codes, a hidden hazard's status from its rectification date."""
    if "synthetic" not in values:
        values["synthetic"] = np.full(n, False, dtype=object)
    else:
        values["synthetic"] = np.array([False if v is None else v for v in values["synthetic"]], dtype=object)
    if kind == "risk_sources":
        _derive_level(values, issues, n)
        if "source_code" not in values:
            names = values.get("name", np.full(n, None, dtype=object))
            values["source_code"] = np.array(
                [None if v is None else DERIVED_SOURCE_CODE_PREFIX + str(v) for v in names], dtype=object
            )
    if kind == "hazchem_sites":
        site = values.get("site_code", np.full(n, None, dtype=object))
        values["site_code"] = np.array([DEFAULT_SITE_CODE if v is None else v for v in site], dtype=object)
    if kind == "hidden_hazards":
        rectified = values.get("rectified_date", np.full(n, None, dtype=object))
        status = values.get("status", np.full(n, None, dtype=object))
        values["status"] = np.array(
            [s if s is not None else ("closed" if r is not None else "open") for s, r in zip(status, rectified,
                                                                                           strict=True)],
            dtype=object,
        )
        found = values.get("found_date")
        if found is not None and "rectified_date" in values:
            before = [i for i in range(n) if found[i] and rectified[i] and rectified[i] < found[i]]
            issues.add(before, "rectified_date", [rectified[i] for i in before],
                       "rectified before it was found", "整改完成日期早于发现日期", severity="warning")


def _derive_level(values: dict[str, NDArray[np.object_]], issues: _Issues, n: int) -> None:
    level = values.get("level", np.full(n, None, dtype=object))
    likelihood = values.get("likelihood")
    severity = values.get("severity")
    if likelihood is None or severity is None:
        values["level"] = level
        return
    both = np.array([a is not None and b is not None for a, b in zip(likelihood, severity, strict=True)])
    pairs = {(int(likelihood[i]), int(severity[i])) for i in np.flatnonzero(both)}
    by_pair = {p: level_from_ls(*p) for p in pairs}
    derived = np.full(n, None, dtype=object)
    for i in np.flatnonzero(both):
        derived[i] = by_pair[(int(likelihood[i]), int(severity[i]))]
    fill = np.array([v is None for v in level]) & both & ~issues.rejected
    level = level.copy()
    level[fill] = derived[fill]
    differs = np.flatnonzero(both & ~fill & np.array([v is not None for v in level]) & (level != derived))
    issues.add(differs, "level", [f"{level[i]} (L×S → {derived[i]})" for i in differs],
               "stated risk level differs from the L × S matrix; stated level kept",
               "填报的风险等级与L×S矩阵计算结果不一致，保留填报值", severity="warning")
    values["level"] = level


def _check_required(
    entity: Entity, cells: pd.DataFrame, values: dict[str, NDArray[np.object_]], issues: _Issues
) -> None:
    for column in [c.name for c in entity.columns if c.required]:
        column_values = values.get(column)
        if column_values is None or (column not in cells and column != "level"):
            continue  # derived columns (source code from the name, site code "main") are checked via their source
        raw = cells[column].to_numpy(dtype=object) if column in cells else np.full(len(column_values), None)
        # a cell that failed to parse is already rejected with its own reason
        empty = np.array([v is None for v in column_values]) & pd.isna(raw)
        if column == "level" and entity.kind == "risk_sources":
            reason = "risk level is empty (and no likelihood L and severity S to derive it)"
            reason_zh = "风险等级为空（且无可能性L、严重性S可推算）"
        else:
            reason = f"required field {_label(entity, column)} is empty"
            reason_zh = f"必填项“{entity.column(column).zh}”为空"
        issues.add(np.flatnonzero(empty), column, None, reason, reason_zh)


def _keys(entity: Entity, values: dict[str, NDArray[np.object_]], n: int) -> NDArray[np.object_]:
    parts = [values.get(c, np.full(n, None, dtype=object)) for c in entity.key_columns]
    out = np.full(n, None, dtype=object)
    for i, tup in enumerate(zip(*parts, strict=True)):
        if all(p is not None for p in tup):
            out[i] = make_key(tup)
    return out


def _reject_duplicates(keys: NDArray[np.object_], issues: _Issues, rows: NDArray[np.int64]) -> None:
    candidates = np.flatnonzero(~issues.rejected & pd.notna(keys))
    if candidates.size == 0:
        return
    series = pd.Series(keys[candidates], index=candidates)
    dup = series.duplicated(keep="first")
    if not dup.any():
        return
    first = series[~dup]
    first_pos = pd.Series(first.index.to_numpy(), index=first.to_numpy())
    for key, group in series[dup].groupby(series[dup], sort=False):
        at = int(rows[first_pos[key]])
        issues.add(group.index.to_numpy(), "key", [key] * len(group),
                   f"duplicate key, first at row {at}", f"唯一键重复，首次出现在第{at}行")


def _place_by_geocoder(
    cells: pd.DataFrame,
    need: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    precision: NDArray[np.object_],
    geocoder: Geocoder | None,
    issues: _Issues,
    progress: Progress | None,
) -> int:
    """Geocode rows ``need`` in place; returns how many were placed."""
    queries = _geocode_queries(cells, need)
    no_text = np.array([q is None for q in queries], dtype=bool)
    issues.add(need[no_text], None, None, "no coordinates and no address to locate",
               "缺少坐标，也没有可用于定位的地址")
    need = need[~no_text]
    texts = [q for q in queries if q is not None]
    if need.size == 0:
        return 0
    if geocoder is None:
        issues.add(need, "address", texts, "no coordinates, and no geocoder was given to locate the address",
                   "缺少坐标，且未提供地址解析（地理编码）")
        return 0
    distinct = list(dict.fromkeys(texts))
    results = dict(zip(distinct, _geocode(geocoder, distinct, progress), strict=True))
    placed = 0
    failed: list[int] = []
    failed_text: list[str] = []
    for pos, text in zip(need.tolist(), texts, strict=True):
        result = results[text]
        x, y = result.lon, result.lat
        if result.precision == "none" or x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            failed.append(pos)
            failed_text.append(text)
            continue
        lon[pos], lat[pos] = float(x), float(y)
        precision[pos] = result.precision
        placed += 1
    issues.add(failed, "address", failed_text,
               "the address could not be located (geocoder precision none)", "地址无法定位（地理编码失败）")
    text_at = dict(zip(need.tolist(), texts, strict=True))
    for level in COARSE_PRECISIONS:
        coarse = [p for p in need.tolist() if precision[p] == level]
        issues.add(coarse, "address", [text_at[p] for p in coarse],
                   f"the address was located only to the {level} (geocode precision {level}); the point is approximate",
                   f"地址仅定位到{_PRECISION_ZH[level]}级别，坐标为近似位置", severity="warning")
    return placed


def _check_datum(
    index: JurisdictionIndex,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    usable: NDArray[np.bool_],
    districts: NDArray[np.object_],
    issues: _Issues,
) -> coords.DatumGuess | None:
    """Run :func:`geo.coords.guess_datum` on rows with a stated district; warn if decisive and not WGS-84.

    ``lon``/``lat`` are already taken as WGS-84; candidates are read back from them,
    which for the WGS-84 default is the file's own values.
    """
    positions = np.flatnonzero(usable)
    if positions.size == 0:
        return None
    rows, polys = claimed_polygons(index, districts[positions])
    if rows.size < 10:
        return None
    sel = positions[rows]
    guess = coords.guess_datum(lon[sel], lat[sel], polys)
    if guess.decisive and guess.best != "wgs84":
        shares = ", ".join(f"{k} {v:.1%}" for k, v in guess.shares.items())
        issues.note(
            f"no datum was stated and WGS-84 was assumed, but {guess.best} fits the stated districts better "
            f"({shares}); reload with --datum {guess.best} if the file is in {guess.best}",
            f"未声明坐标系，按WGS84导入，但{guess.best}与填报的所属区更吻合；"
            f"如确为{guess.best}请用--datum {guess.best}重新导入",
            column="datum",
        )
    return guess


def entity_columns(kind: str) -> tuple[str, ...]:
    """The entity's own column names (without ``key`` and the common columns)."""
    return tuple(c.name for c in get_entity(kind).columns)


def _place(
    kind: str,
    index: JurisdictionIndex,
    geoms: NDArray[np.object_],
    values: dict[str, NDArray[np.object_]],
    issues: _Issues,
) -> dict[str, NDArray[np.object_]]:
    """Jurisdiction codes; rejects rows outside every area; flags stated-district mismatches."""
    present = ~shapely.is_missing(geoms) & ~issues.rejected
    idx = np.flatnonzero(present)
    placement = assign_jurisdiction(index, geoms[idx])
    n = len(geoms)
    codes = {name: np.full(n, None, dtype=object) for name in ("province_code", "city_code", "county_code")}
    codes["province_code"][idx] = placement.province_code
    codes["city_code"][idx] = placement.city_code
    codes["county_code"][idx] = placement.county_code
    outside = idx[~placement.inside]
    if get_entity(kind).geometry_type == _POINT_KINDS_GEOMETRY:
        issues.add(outside, "geometry", [f"{g.x:.6f}, {g.y:.6f}" for g in geoms[outside]],
                   "outside Beijing, Tianjin and Hebei (reference boundaries)", "坐标不在京津冀行政区域内")
    if "district" in entity_columns(kind):
        district = values.setdefault("district", np.full(n, None, dtype=object))
        stated = district[idx]
        mismatch, unknown = district_mismatch(index, stated, placement)
        pos = idx[mismatch]
        where = placement.district_name[mismatch]
        issues.add(pos, "district", [f"{s} (point in {w})" for s, w in zip(stated[mismatch], where, strict=True)],
                   "the point is not in the district the row names", "坐标所在区与填报的所属区不一致",
                   severity="warning")
        issues.add(idx[unknown], "district", stated[unknown], "unknown district name", "无法识别的区县名称",
                   severity="warning")
        # fill an empty district with the one the point lies in
        fill = idx[pd.isna(stated) & pd.notna(placement.district_name)]
        district[fill] = placement.district_name[pd.isna(stated) & pd.notna(placement.district_name)]
    return codes


def _features(
    entity: Entity,
    values: dict[str, NDArray[np.object_]],
    keys: NDArray[np.object_],
    geoms: NDArray[np.object_],
    codes: dict[str, NDArray[np.object_]],
    keep: NDArray[np.bool_],
) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {"key": keys[keep]}
    for column in entity.columns:
        if column.name in values:
            data[column.name] = values[column.name][keep]
        else:
            data[column.name] = np.full(int(keep.sum()), None, dtype=object)
    for name in ("province_code", "city_code", "county_code"):
        data[name] = codes[name][keep] if name in codes else np.full(int(keep.sum()), None, dtype=object)
    data["synthetic"] = values["synthetic"][keep]
    # object columns: pandas would otherwise infer Arrow-backed strings, which the stores
    # iterate value by value several times more slowly
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})
    for column in entity.columns:
        if column.type == "int":
            frame[column.name] = pd.array(frame[column.name].tolist(), dtype="Int64")
        elif column.type == "float":
            frame[column.name] = pd.to_numeric(frame[column.name].astype(object)).astype("float64")
        elif column.type == "bool":
            frame[column.name] = pd.array(frame[column.name].tolist(), dtype="boolean")
    frame["synthetic"] = pd.array(frame["synthetic"].tolist(), dtype="boolean")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms[keep], crs=STORAGE_CRS), crs=STORAGE_CRS)
