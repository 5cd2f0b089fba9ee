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
from geo.io.store import ClusterSpec

LEVEL_COLOURS = {code: colour for code, _, _, colour in RISK_LEVELS}

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

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["popup"] = list(self.popup)
        data["tile_url"] = f"/tiles/{self.id}/{{z}}/{{x}}/{{y}}.pbf"
        data["popup_labels"] = {c: get_entity(self.entity).column(c).zh for c in self.popup}
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
          Style(color="#7b3294", weight=2.0, fill_opacity=0.05), default_on=True),
    Layer("borders", "京津冀省界", "Jing-Jin-Ji borders", *_BOUNDARIES, "lines", "line",
          {"line_type": "border"}, ("name",), Style(color="#e31a1c", weight=3.0), default_on=True),
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
          Style(radius=5.0, by="severity", colors={"major": "#b10026", "general": "#fd8d3c"}), default_on=True),
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
                                                      "water_pipeline": "#4575b4"}), default_on=True),
    Layer("hazmat_routes", "危化品运输路线", "Hazmat transport routes", *_LINES, "lines", "line",
          {"line_type": "hazmat_route"}, ("name", "operator"),
          Style(color="#d73027", weight=2.0), default_on=True),
)


class CatalogError(ValueError):
    """A layer declaration that does not match the entities or the store."""


def get_layer(layer_id: str) -> Layer:
    """The layer called ``layer_id``; raise KeyError naming the known ones."""
    for layer in CATALOG:
        if layer.id == layer_id:
            return layer
    raise KeyError(f"unknown layer {layer_id!r}; known: {', '.join(lay.id for lay in CATALOG)}")


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
        if store is not None:
            try:
                store.count(layer.entity, where=layer.where)
            except Exception as exc:
                reason = str(exc).strip().splitlines()[0]
                raise CatalogError(f"layer {layer.id!r}: table {layer.entity!r} unusable: {reason}") from None
