"""Every map layer, declared once.

The map page, ``GET /api/v1/layers``, the feature API and the vector-tile queries
are all derived from these declarations.  :func:`validate_catalog` checks each
layer against the entities and the store at start-up, so a layer that names a
missing table or column stops the app with a clear message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geo.entities import RISK_LEVELS, UnknownColumnError, UnknownEntityError, get_entity

LEVEL_COLOURS = {code: colour for code, _, _, colour in RISK_LEVELS}


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
_TARGETS = ("防护目标", "Protection targets")
_RESOURCES = ("应急资源", "Emergency resources")

CATALOG: tuple[Layer, ...] = (
    Layer("provinces", "省级边界", "Provinces", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "province"}, ("name", "area_code"),
          Style(color="#222222", weight=2.5, fill_opacity=0.0), default_on=True),
    Layer("districts", "区县", "Districts / counties", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "district"}, ("name", "area_code", "population", "approximate"),
          Style(color="#666666", weight=1.2, fill_opacity=0.02), default_on=True),
    Layer("townships", "街道乡镇(近似)", "Townships (approximate)", *_BOUNDARIES, "areas", "polygon",
          {"area_type": "township"}, ("name", "area_code", "approximate"),
          Style(color="#999999", weight=0.6, fill_opacity=0.0), min_zoom=9),
    Layer("zones", "管控区域(五环等,近似)", "Zones (5th Ring etc., approximate)", *_BOUNDARIES, "areas",
          "polygon", {"area_type": "zone"}, ("name", "approximate", "source"),
          Style(color="#7b3294", weight=2.0, fill_opacity=0.05), default_on=True),
    Layer("borders", "京津冀省界", "Jing-Jin-Ji borders", *_BOUNDARIES, "lines", "line",
          {"line_type": "border"}, ("name",), Style(color="#e31a1c", weight=3.0), default_on=True),
    Layer("protection_targets", "防护目标", "Protection targets", *_TARGETS, "protection_targets", "point",
          {}, ("name", "target_type", "sensitivity", "district", "source"),
          Style(radius=3.5, by="sensitivity", colors={
              "high": "#e7298a", "important": "#7570b3", "general1": "#1b9e77",
              "general2": "#66a61e", "general3": "#a6761d"}),
          min_zoom=10),
    Layer("fire_stations", "消防站", "Fire stations", *_RESOURCES, "resources", "point",
          {"resource_type": "fire_station"}, ("name", "resource_type", "district"),
          Style(color="#b2182b", radius=5.0), default_on=True),
    Layer("police_stations", "派出所/公安", "Police stations", *_RESOURCES, "resources", "point",
          {"resource_type": "police_station"}, ("name", "resource_type", "district"),
          Style(color="#2166ac", radius=4.0)),
    Layer("risk_sources", "安全风险源", "Risk sources", "风险源", "Risk sources", "risk_sources", "point",
          {}, ("name", "unit_name", "level", "source_type", "district", "address"),
          Style(radius=4.0, by="level", colors=LEVEL_COLOURS), default_on=True),
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
