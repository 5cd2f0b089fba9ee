"""Every map layer, declared once.

The map page, ``GET /api/v1/layers``, the feature API and the vector-tile queries
are all derived from these declarations.  :func:`validate_catalog` checks each
layer against the entities and the store at start-up, so a layer that names a
missing table or column stops the app with a clear message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geo.entities import LEVEL_CODES, RISK_LEVELS, UnknownColumnError, UnknownEntityError, get_entity
from geo.errors import NotFound, Unavailable
from geo.response import RESOURCE_TYPE_WORDS
from geo.stores.protocol import ClusterSpec

LEVEL_COLOURS = {code: colour for code, _, _, colour in RISK_LEVELS}

#: English label of every field a popup or a search result shows; the Chinese one is the entity
#: column's own (``geo.entities``), so the same field reads "风险源名称" on a risk source and "名称"
#: on a resource.  :func:`validate_catalog` requires both for every popup field.
FIELD_LABELS_EN: dict[str, str] = {
    "name": "Name", "unit_name": "Unit", "credit_code": "Unified social credit code", "level": "Risk level",
    "source_type": "Risk type", "likelihood": "Likelihood (1-5)", "severity": "Severity", "district": "District",
    "address": "Address", "geocode_precision": "Location precision", "area_code": "Code",
    "population": "Population", "approximate": "Approximate", "source": "Source", "score": "Risk score",
    "count_red": "Major-risk sources", "count_orange": "Significant-risk sources",
    "count_yellow": "General-risk sources", "count_blue": "Low-risk sources", "site_type": "Type",
    "chemicals": "Chemicals and quantities", "major_hazard_grade": "Major hazard grade",
    "external_distance_m": "External safety distance (m)", "gas_station_grade": "Gas station grade",
    "operating": "Operating", "description": "Description", "found_date": "Found on",
    "deadline": "Rectification deadline", "status": "Status", "target_type": "Type", "sensitivity": "Sensitivity",
    "resource_type": "Resource type", "speciality": "Speciality", "capacity": "People / capacity",
    "item_count": "Items of equipment / supplies", "contact": "Contact", "line_type": "Type",
    "operator": "Operator", "area_type": "Area type", "synthetic": "Synthetic demo data",
}

_YES_NO = {"true": ("是", "yes"), "false": ("否", "no")}
_GRADES = {str(n): (f"{zh}级", f"grade {n}") for n, zh in zip(range(1, 5), "一二三四", strict=True)}

#: Words for coded values, per field: value (as text) -> (Chinese, English).  The one table of them:
#: popups, legends and the page's words for a bare value (``webmap.i18n.value_labels``) all read it.
#: Values not listed are shown as they are (names, addresses, Chinese source types, numbers).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "level": {code: (zh, en) for code, zh, en, _ in RISK_LEVELS},
    "site_type": {"production": ("生产", "production"), "storage": ("储存", "storage"),
                  "business": ("经营", "trading"), "use": ("使用", "use"),
                  "gas_station": ("加油站", "gas station"), "fireworks": ("烟花爆竹零售", "fireworks retail")},
    "resource_type": dict(RESOURCE_TYPE_WORDS),
    "target_type": {"school": ("学校", "school"), "kindergarten": ("幼儿园", "kindergarten"),
                    "hospital": ("医院", "hospital"), "university": ("高校", "university"),
                    "college": ("学院", "college"), "care_home": ("养老机构", "care home"),
                    "residential": ("居住区", "residential area"), "industrial": ("工业用地", "industrial land"),
                    "industrial_landuse": ("工业用地", "industrial land"),
                    "crowded_place": ("人员密集场所", "crowded place"), "military": ("军事设施", "military site"),
                    "prison": ("监管场所", "prison")},
    "sensitivity": {"high": ("高敏感", "high"), "important": ("重要", "important"),
                    "general1": ("一般一类", "general, class 1"), "general2": ("一般二类", "general, class 2"),
                    "general3": ("一般三类", "general, class 3")},
    "severity": {"major": ("重大隐患", "major hazard"), "general": ("一般隐患", "general hazard")},
    "status": {"open": ("未整改", "open"), "closed": ("已整改", "rectified")},
    "line_type": {"oil_pipeline": ("输油管道", "oil pipeline"), "gas_pipeline": ("输气管道", "gas pipeline"),
                  "water_pipeline": ("输水管道", "water pipeline"), "hazmat_route": ("危化品运输路线", "hazmat route"),
                  "ring_road": ("环路", "ring road"), "border": ("省界", "provincial border")},
    "area_type": {"province": ("省级", "province"), "city": ("地市", "city"), "district": ("区县", "district"),
                  "township": ("街道乡镇", "township"), "community": ("社区", "community"),
                  "zone": ("管控区域", "zone")},
    "geocode_precision": {"coordinates": ("文件坐标", "coordinates from the file"), "poi": ("兴趣点", "POI"),
                          "road": ("道路", "road"), "township": ("街道乡镇", "township"),
                          "district": ("区县", "district"), "city": ("城市", "city"), "province": ("省级", "province"),
                          "feature": ("要素", "feature"), "none": ("未定位", "not located")},
    "major_hazard_grade": _GRADES,
    "gas_station_grade": _GRADES,
    "approximate": _YES_NO,
    "operating": _YES_NO,
    "synthetic": _YES_NO,
    # what kind of thing a search found, or whose data version a verdict names
    "kind": {"units": ("生产经营单位", "unit"), "risk_sources": ("风险源", "risk source"),
             "hazchem_sites": ("危险化学品单位", "hazardous-chemical site"), "resources": ("应急资源", "resource"),
             "protection_targets": ("防护目标", "protection target"), "areas": ("区域", "area"),
             "lines": ("管线与运输路线", "pipelines and routes"), "address": ("地址", "address")},
}


def display_labels() -> dict[str, Any]:
    """Field and value labels for the page: ``{"fields": {f: {zh, en}}, "values": {f: {v: {zh, en}}}}``.

    Field labels here are the generic ones (the entity-specific Chinese labels of a layer's popup
    fields are in :meth:`Layer.as_json`).
    """
    zh_any: dict[str, str] = {}
    for kind in ("risk_sources", "hazchem_sites", "hidden_hazards", "resources", "protection_targets", "areas",
                 "lines", "units", "area_results"):
        for column in get_entity(kind).all_columns:
            zh_any.setdefault(column.name, column.zh)
    zh_any["name"] = "名称"
    return {
        "fields": {f: {"zh": zh_any.get(f, f), "en": en} for f, en in FIELD_LABELS_EN.items()},
        "values": {f: {v: {"zh": zh, "en": en} for v, (zh, en) in values.items()}
                   for f, values in VALUE_LABELS.items()},
    }

#: Legend words for the rows of a layer drawn by attribute that have none of its coloured values.
LEGEND_OTHER = ("其他或未填", "other or not given")

#: Cluster cell in tile units (of 4096): 256 -> a 16 x 16 grid of clusters per tile.
CLUSTER_CELL = 256


@dataclass(frozen=True)
class Style:
    """How a layer is drawn: a fixed colour, or a colour per value of one attribute."""

    color: str = "#555555"
    fill_color: str | None = None
    weight: float = 1.5
    radius: float = 4.0
    fill_opacity: float = 0.5
    by: str | None = None  # attribute whose value picks the colour
    colors: dict[str, str] = field(default_factory=dict)
    dash: str | None = None  # dash pattern of lines and outlines in screen pixels ("6 4"; Leaflet dashArray)


@dataclass(frozen=True)
class Layer:
    """One map layer: what it shows (entity + filter), how, and when."""

    id: str
    zh: str
    en: str
    group_zh: str
    group_en: str
    entity: str
    geometry: str  # point | line | polygon
    where: dict[str, Any] = field(default_factory=dict)
    popup: tuple[str, ...] = ("name",)
    style: Style = field(default_factory=Style)
    min_zoom: int = 0
    max_zoom: int = 22
    default_on: bool = False
    cluster_below: int | None = None  # below this zoom, points are drawn as counted grid clusters
    cluster_column: str | None = None  # counted per value in clusters (e.g. level)
    cluster_values: tuple[str, ...] = ()

    def cluster_spec(self, z: int) -> ClusterSpec | None:
        """The clustering for zoom ``z`` (None: draw every feature)."""
        if self.cluster_below is None or z >= self.cluster_below:
            return None
        return ClusterSpec(cell=CLUSTER_CELL, column=self.cluster_column, values=self.cluster_values,
                           base_zoom=self.cluster_below - 1)

    @property
    def tile_columns(self) -> tuple[str, ...]:
        """Columns carried in the vector tiles: key, popup fields, the style attribute."""
        cols = ["key", *self.popup]
        if self.style.by and self.style.by not in cols:
            cols.append(self.style.by)
        if "synthetic" not in cols:
            cols.append("synthetic")
        return tuple(dict.fromkeys(cols))

    def popup_labels(self) -> dict[str, dict[str, str]]:
        """Each popup field's label: ``{field: {"zh": ..., "en": ...}}``."""
        entity = get_entity(self.entity)
        return {c: {"zh": entity.column(c).zh, "en": FIELD_LABELS_EN.get(c, "")} for c in self.popup}

    def legend(self) -> dict[str, Any]:
        """What the legend says about the style: ``{"by": {zh, en} | None, "classes": [...]}``.

        A layer drawn by attribute has one class per coloured value, in declaration order
        (``{"value", "zh", "en", "color"}``), and a last class in the fixed colour (value None) for rows
        with another value or none, unless the filter or a required column rules those out.  A layer of
        one colour has no classes (its title names its symbol).
        """
        style = self.style
        if not style.by:
            return {"by": None, "classes": []}
        column = get_entity(self.entity).column(style.by)
        words = VALUE_LABELS.get(style.by, {})
        classes: list[dict[str, str | None]] = [
            {"value": v, "zh": words.get(v, (v, v))[0], "en": words.get(v, (v, v))[1], "color": colour}
            for v, colour in style.colors.items()]
        allowed = self.where.get(style.by)
        allowed = [allowed] if isinstance(allowed, str) else allowed
        if not column.required and not (allowed and set(allowed) <= set(style.colors)):
            classes.append({"value": None, "zh": LEGEND_OTHER[0], "en": LEGEND_OTHER[1], "color": style.color})
        return {"by": {"zh": column.zh, "en": FIELD_LABELS_EN.get(style.by, "")}, "classes": classes}

    def as_json(self) -> dict[str, Any]:
        """The declaration for the page and ``GET /api/v1/layers``, with popup labels, value words and legend."""
        data = asdict(self)
        data["popup"] = list(self.popup)
        data["tile_url"] = f"/tiles/{self.id}/{{z}}/{{x}}/{{y}}.pbf"
        data["popup_labels"] = self.popup_labels()
        data["popup_values"] = {c: {v: {"zh": zh, "en": en} for v, (zh, en) in VALUE_LABELS[c].items()}
                                for c in self.popup if c in VALUE_LABELS}
        data["legend"] = self.legend()
        return data


_BOUNDARIES = ("行政区划与边界", "Boundaries")
_HAZARDS = ("风险源与危险源", "Risk sources and hazards")
_TARGETS = ("防护目标", "Protection targets")
_RESOURCES = ("应急资源", "Emergency resources")
_LINES = ("管线与运输", "Pipelines and routes")
_AREA_RISK = ("区域风险", "Area risk")
_AREA_POPUP = ("name", "level", "score", "count_red", "count_orange", "count_yellow", "count_blue", "population",
               "area_code")


def _area_risk(layer_id: str, zh: str, en: str, unit: str, method: str, *, default_on: bool = False,
               min_zoom: int = 0, weight: float = 0.6) -> Layer:
    # Only current results: rows a later run retired have no level.
    return Layer(layer_id, zh, en, *_AREA_RISK, "area_results", "polygon",
                 {"unit": unit, "method": method, "level": list(LEVEL_CODES)}, _AREA_POPUP,
                 Style(color="#555555", weight=weight, fill_opacity=0.45, by="level", colors=LEVEL_COLOURS),
                 min_zoom=min_zoom, default_on=default_on)

_RESOURCE_POPUP = ("name", "resource_type", "speciality", "capacity", "item_count", "contact", "district")


def _resource(layer_id: str, zh: str, en: str, resource_type: str, color: str, *, default_on: bool = False,
              min_zoom: int = 0, radius: float = 4.5) -> Layer:
    return Layer(layer_id, zh, en, *_RESOURCES, "resources", "point", {"resource_type": resource_type},
                 _RESOURCE_POPUP, Style(color=color, radius=radius), min_zoom=min_zoom, default_on=default_on)


#: On by default are the commander's essentials, so that the first view is a few dozen tile requests
#: (target: drawn within 2 s): boundaries (provinces, districts), risk sources by level,
#: hazardous-chemical sites and fire stations.  Every other layer is one click away in the switcher.
CATALOG: tuple[Layer, ...] = (
    Layer("provinces", "省级边界", "Provinces", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "province"}, ("name", "area_code"),
          Style(color="#222222", weight=2.5, fill_opacity=0.0), default_on=True),
    Layer("districts", "区县", "Districts / counties", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "district"}, ("name", "area_code", "population", "approximate"),
          Style(color="#666666", weight=1.2, fill_opacity=0.02), default_on=True),
    Layer("townships", "街道乡镇(近似)", "Townships (approximate)", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "township"}, ("name", "area_code", "population", "approximate"),
          Style(color="#999999", weight=0.6, fill_opacity=0.0), min_zoom=9),
    Layer("zones", "管控区域(五环等,近似)", "Zones (5th Ring etc., approximate)", *_BOUNDARIES, "areas",
          "polygon", {"area_type": "zone"}, ("name", "approximate", "source"),
          # a light dashed outline and a tint: told apart from the solid dark-purple ring road it follows
          Style(color="#c2a5cf", fill_color="#c2a5cf", weight=1.5, fill_opacity=0.12, dash="5 4")),
    Layer("borders", "京津冀省界", "Jing-Jin-Ji borders", *_BOUNDARIES, "lines", "line",
          {"line_type": "border"}, ("name",), Style(color="#e31a1c", weight=3.0)),
    Layer("ring_roads", "五环路(近似)", "5th Ring Road (approximate)", *_BOUNDARIES, "lines", "line",
          {"line_type": "ring_road"}, ("name", "approximate"), Style(color="#7b3294", weight=2.0)),
    _area_risk("risk_district", "区县风险(就高)", "District risk (highest level)", "district", "highest"),
    _area_risk("risk_township", "街道乡镇风险(综合)", "Township risk (composite)", "township", "composite",
               min_zoom=8),
    _area_risk("risk_grid", "网格风险(1公里,密度)", "Grid risk (1 km, density)", "grid", "density", min_zoom=9,
               weight=0.2),
    _area_risk("risk_h3", "H3 风险(密度)", "H3 risk (density)", "h3", "density", min_zoom=9, weight=0.2),
    Layer("risk_sources", "安全风险源", "Risk sources", *_HAZARDS, "risk_sources", "point",
          {}, ("name", "unit_name", "level", "source_type", "likelihood", "severity", "district", "address",
               "geocode_precision"),
          Style(radius=4.0, by="level", colors=LEVEL_COLOURS), default_on=True,
          cluster_below=13, cluster_column="level", cluster_values=LEVEL_CODES),
    Layer("hazchem_sites", "危险化学品单位", "Hazardous-chemical sites", *_HAZARDS, "hazchem_sites", "point",
          {"site_type": ["production", "storage", "business", "use"]},
          ("name", "site_type", "chemicals", "major_hazard_grade", "external_distance_m", "district", "address"),
          Style(radius=5.0, by="site_type", colors={"production": "#a50f15", "storage": "#de2d26",
                                                     "business": "#fb6a4a", "use": "#fc9272"}),
          default_on=True),
    Layer("gas_stations", "加油站", "Gas stations", *_HAZARDS, "hazchem_sites", "point",
          {"site_type": "gas_station"}, ("name", "gas_station_grade", "operating", "district", "address"),
          Style(color="#8c510a", radius=4.0)),
    Layer("fireworks", "烟花爆竹零售点", "Fireworks retail", *_HAZARDS, "hazchem_sites", "point",
          {"site_type": "fireworks"}, ("name", "operating", "district", "address"), Style(color="#e7298a")),
    Layer("hidden_hazards", "未整改隐患", "Open hidden hazards", *_HAZARDS, "hidden_hazards", "point",
          {"status": "open"}, ("unit_name", "severity", "description", "found_date", "deadline", "district"),
          Style(radius=5.0, by="severity", colors={"major": "#b10026", "general": "#fd8d3c"})),
    Layer("protection_targets", "防护目标", "Protection targets", *_TARGETS, "protection_targets", "point",
          {}, ("name", "target_type", "sensitivity", "district", "source"),
          Style(radius=3.5, by="sensitivity", colors={
              "high": "#e7298a", "important": "#7570b3", "general1": "#1b9e77",
              "general2": "#66a61e", "general3": "#a6761d"}),
          min_zoom=11),
    _resource("fire_stations", "消防站", "Fire stations", "fire_station", "#b2182b", default_on=True, radius=5.5),
    _resource("rescue_teams", "救援队伍", "Rescue teams", "team", "#1a9850", min_zoom=10),
    _resource("experts", "专家", "Experts", "expert", "#66bd63", min_zoom=11),
    _resource("equipment_depots", "应急装备库", "Equipment depots", "equipment_depot", "#3288bd"),
    _resource("supply_depots", "应急物资库", "Supply depots", "supply_depot", "#5e4fa2"),
    _resource("shelters", "应急避难场所", "Shelters", "shelter", "#41b6c4"),
    _resource("police_stations", "派出所/公安", "Police stations", "police_station", "#2166ac"),
    Layer("pipelines", "油气管线", "Oil and gas pipelines", *_LINES, "lines", "line",
          {"line_type": ["oil_pipeline", "gas_pipeline", "water_pipeline"]}, ("name", "line_type", "operator"),
          Style(weight=2.5, by="line_type", colors={"oil_pipeline": "#543005", "gas_pipeline": "#f46d43",
                                                      "water_pipeline": "#4575b4"})),
    Layer("hazmat_routes", "危化品运输路线", "Hazmat transport routes", *_LINES, "lines", "line",
          {"line_type": "hazmat_route"}, ("name", "operator"),
          Style(color="#d73027", weight=2.0, dash="6 4")),  # dashed: not the (solid red) borders
)


class CatalogError(Unavailable):
    """A layer declaration that does not match the entities or the store."""


def get_layer(layer_id: str) -> Layer:
    """The layer called ``layer_id``; raise KeyError naming the known ones."""
    for layer in CATALOG:
        if layer.id == layer_id:
            return layer
    raise NotFound(f"unknown layer {layer_id!r}; known: {', '.join(lay.id for lay in CATALOG)}")


def validate_catalog(layers: tuple[Layer, ...] = CATALOG, *, store: Any | None = None) -> None:
    """Check every layer's entity and columns (and, given a store, that its table answers).

    Raises :class:`CatalogError` with a message naming the layer and the problem.
    """
    seen: set[str] = set()
    for layer in layers:
        if layer.id in seen:
            raise CatalogError(f"layer {layer.id!r} declared twice")
        seen.add(layer.id)
        try:
            entity = get_entity(layer.entity)
            for name in (*layer.where, *layer.tile_columns):
                entity.column(name)
        except (UnknownEntityError, UnknownColumnError) as exc:
            raise CatalogError(f"layer {layer.id!r}: {exc}") from None
        for name, label in layer.popup_labels().items():
            missing = [lang for lang in ("zh", "en") if not label[lang]]
            if missing:
                raise CatalogError(f"layer {layer.id!r}: popup field {name!r} has no {'/'.join(missing)} label "
                                   "(geo.entities for zh, FIELD_LABELS_EN in layers/catalog.py for en)")
        _check_legend(layer)
        if store is not None:
            try:
                store.count(layer.entity, where=layer.where)
            except Exception as exc:
                reason = str(exc).strip().splitlines()[0]
                raise CatalogError(f"layer {layer.id!r}: table {layer.entity!r} unusable: {reason}") from None


def _check_legend(layer: Layer) -> None:
    """The legend names every class of a layer drawn by attribute in both languages."""
    style = layer.style
    if not style.by:
        return
    if not FIELD_LABELS_EN.get(style.by):
        raise CatalogError(f"layer {layer.id!r}: style attribute {style.by!r} has no en label (FIELD_LABELS_EN)")
    unnamed = [v for v in style.colors if v not in VALUE_LABELS.get(style.by, {})]
    if unnamed:
        raise CatalogError(f"layer {layer.id!r}: legend values {', '.join(map(repr, unnamed))} of {style.by!r} "
                           "have no zh/en words (VALUE_LABELS in layers/catalog.py)")
