"""What a page draws from an API answer rather than from a catalog layer, declared like a layer.

The site-veto page draws its verdicts (a line from the site to each hazard it is too close to, the
hazard, the parcels of a batch by verdict); the cross-border page its border segments by risk, the
lines crossing the border, the resources of mutual aid and the pilot area; the map page the incident
briefing's rings and links and the fire-coverage gaps.  Each overlay has a title, a geometry and a
:class:`layers.catalog.Style`, so a page draws it, and its legend entry, the way it draws a catalog
layer's (``styleFor`` and ``layerLegend`` in ``js/base.js``).  The verdicts' words are the rules' own
(``geo.veto.VERDICT_LABELS``); their colours are here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geo.veto import VERDICT_LABELS
from layers.catalog import Style

#: Colour of each verdict (``geo.veto.VERDICT_LABELS``), worst first.
VERDICT_COLOURS: dict[str, str] = {"VETO": "#c0392b", "CONDITIONAL": "#e67e22", "PASS": "#27ae60",
                                   "OUTSIDE_COVERAGE": "#7f8c8d"}


@dataclass(frozen=True)
class Overlay:
    """Features a page draws from an API answer: a fixed colour, or a colour per value of one property.

    ``words`` name the coloured values (Chinese, English) and ``other`` the fixed colour in the
    legend.  Where the page works the value out itself from a ratio (0..1), ``breaks`` are the lower
    bounds (exclusive) of the coloured values, in their order; a ratio at or below all of them takes
    the fixed colour.
    """

    id: str
    zh: str
    en: str
    geometry: str  # point | line | polygon
    style: Style = field(default_factory=Style)
    by: tuple[str, str] | None = None  # what the colour shows
    words: dict[str, tuple[str, str]] = field(default_factory=dict)
    other: tuple[str, str] | None = None
    breaks: tuple[float, ...] = ()

    def legend(self) -> dict[str, Any]:
        """What the legend says about the style, as :meth:`layers.catalog.Layer.legend` gives it."""
        if not self.style.by:
            return {"by": None, "classes": []}
        classes: list[dict[str, str | None]] = [
            {"value": v, "zh": self.words[v][0], "en": self.words[v][1], "color": colour}
            for v, colour in self.style.colors.items()]
        if self.other:
            classes.append({"value": None, "zh": self.other[0], "en": self.other[1], "color": self.style.color})
        by = {"zh": self.by[0], "en": self.by[1]} if self.by else None
        return {"by": by, "classes": classes}

    def as_json(self) -> dict[str, Any]:
        """What the page gets: the keys of a catalog layer's that drawing and the legend read, and breaks."""
        return {"id": self.id, "zh": self.zh, "en": self.en, "geometry": self.geometry, "style": asdict(self.style),
                "legend": self.legend(), "min_zoom": 0, "breaks": list(self.breaks)}


_VERDICT = ("审查结论", "Verdict")
_VERDICT_WORDS = {code: (words["zh"], words["en"]) for code, words in VERDICT_LABELS.items()}
_HIT_COLOURS = {v: VERDICT_COLOURS[v] for v in ("VETO", "CONDITIONAL")}

#: The site-veto page's overlays (``js/veto.js``), by what they draw.
VETO_OVERLAYS: dict[str, Overlay] = {
    "hits": Overlay("veto_hits", "选址至危险源距离(不足)", "Site to hazard (too close)", "line",
                    Style(weight=2.5, dash="6 4", by="outcome", colors=_HIT_COLOURS), _VERDICT, _VERDICT_WORDS),
    "hazards": Overlay("veto_hazards", "命中的危险源", "Hazards too close", "point",
                       Style(radius=6.0, by="outcome", colors=_HIT_COLOURS), _VERDICT, _VERDICT_WORDS),
    "parcels": Overlay("veto_parcels", "批量地块", "Batch parcels", "polygon",
                       Style(weight=2.0, radius=6.0, fill_opacity=0.35, by="verdict", colors=VERDICT_COLOURS),
                       _VERDICT, _VERDICT_WORDS, other=("未能审查(见说明)", "not checked (see its row)")),
}

#: The cross-border page's overlays (``js/border.js``), by what they draw.
BORDER_OVERLAYS: dict[str, Overlay] = {
    "segments": Overlay(
        "border_segments", "边界分段风险", "Border segments by risk", "line",
        Style(color="#2c7bb6", weight=6.0, by="share",
              colors={"high": "#d7191c", "elevated": "#fdae61", "some": "#ffd700"}),
        ("占最高段风险值", "share of the highest segment's score"),
        {"high": ("66%以上", "above 66%"), "elevated": ("33%–66%", "33–66%"), "some": ("10%–33%", "10–33%")},
        other=("10%及以下", "10% or less"), breaks=(0.66, 0.33, 0.1)),
    "lines": Overlay("border_lines", "跨界管线/运输路线", "Lines crossing the border", "line",
                     Style(color="#6a3d9a", weight=3.0, dash="6 4")),
    "crossings": Overlay("border_crossings", "穿越点", "Crossing points", "point",
                         Style(color="#000000", radius=5.0)),
    "aid": Overlay("border_aid", "支援资源", "Mutual-aid resources", "point",
                   Style(color="#2c7bb6", radius=4.0, by="across", colors={"true": "#e67e22"}),
                   ("所在一侧", "side"), {"true": ("跨界", "across the border")}, other=("本侧", "same side")),
    "pilot": Overlay("border_pilot", "通武廊试点", "Tongzhou–Wuqing–Langfang pilot", "polygon",
                     Style(color="#27ae60", weight=2.0, fill_opacity=0.0)),
}

#: The map page's overlays (``js/commander.js``): the incident briefing and the coverage gaps.
MAP_OVERLAYS: dict[str, Overlay] = {
    "incident": Overlay("incident", "事故点", "Incident", "point", Style(color="#c0392b", radius=7.0)),
    "ring": Overlay("incident_ring", "查询半径", "Radius", "line", Style(color="#c0392b", weight=2.0)),
    "half_ring": Overlay("incident_half_ring", "半径的一半", "Half radius", "line",
                         Style(color="#c0392b", weight=1.0, dash="4")),
    "resource": Overlay("incident_resource", "最近应急资源", "Nearest resource", "point",
                        Style(color="#1a9850", radius=5.0)),
    "link": Overlay("incident_link", "至事故点连线", "Link to the incident", "line",
                    Style(color="#1a9850", weight=1.0, dash="3")),
    "coverage": Overlay("coverage", "消防5分钟覆盖盲区", "Fire 5-minute coverage gaps", "polygon",
                        Style(color="#8e44ad", weight=0.5, fill_opacity=0.25)),
}


def overlays_json(overlays: dict[str, Overlay]) -> dict[str, dict[str, Any]]:
    """A page's overlays as its config carries them, by what they draw."""
    return {part: overlay.as_json() for part, overlay in overlays.items()}
