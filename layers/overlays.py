"""What a page draws from an API answer rather than from a catalog layer, declared like a layer.

The site-veto page draws its verdicts: a line from the site to each hazard it is too close to, the
hazard itself, and the parcels of a batch coloured by their verdict.  Each overlay has a title, a
geometry and a :class:`layers.catalog.Style`, so the page draws it and its legend entry the way it
draws a catalog layer's.  The colours of the verdicts are here; their words are the rules' own
(``geo.veto.VERDICT_LABELS``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from geo.veto import VERDICT_LABELS
from layers.catalog import Style

#: Colour of each verdict (``geo.veto.VERDICT_LABELS``), worst first.
VERDICT_COLOURS: dict[str, str] = {"VETO": "#c0392b", "CONDITIONAL": "#e67e22", "PASS": "#27ae60",
                                   "OUTSIDE_COVERAGE": "#7f8c8d"}

#: The fixed colour of a batch parcel that was not judged (its row says why), and its legend words.
NOT_CHECKED = ("#555555", "未能审查(见说明)", "not checked (see its row)")

_VERDICT = {"zh": "审查结论", "en": "Verdict"}


@dataclass(frozen=True)
class Overlay:
    """Features a page draws from an API answer, coloured by one property (``style.by``) of a verdict."""

    id: str
    zh: str
    en: str
    geometry: str  # point | line | polygon
    style: Style
    other: tuple[str, str] | None = None  # legend words of the fixed colour (a value not coloured)

    def legend(self) -> dict[str, Any]:
        """The legend's classes, as :meth:`layers.catalog.Layer.legend` gives them: a verdict's words."""
        classes: list[dict[str, str | None]] = [
            {"value": v, **VERDICT_LABELS[v], "color": colour} for v, colour in self.style.colors.items()]
        if self.other:
            classes.append({"value": None, "zh": self.other[0], "en": self.other[1], "color": self.style.color})
        return {"by": _VERDICT, "classes": classes}

    def as_json(self) -> dict[str, Any]:
        """What the page gets: ``id``, titles, geometry, style and legend (the keys of a catalog layer's)."""
        return {"id": self.id, "zh": self.zh, "en": self.en, "geometry": self.geometry,
                "style": asdict(self.style), "legend": self.legend(), "min_zoom": 0}


_HIT_VERDICTS = {v: VERDICT_COLOURS[v] for v in ("VETO", "CONDITIONAL")}

#: The site-veto page's overlays, by the part of the verdict they draw.
VETO_OVERLAYS: dict[str, Overlay] = {
    "hits": Overlay("veto_hits", "选址至危险源距离(不足)", "Site to hazard (too close)", "line",
                    Style(weight=2.5, dash="6 4", by="outcome", colors=_HIT_VERDICTS)),
    "hazards": Overlay("veto_hazards", "命中的危险源", "Hazards too close", "point",
                       Style(radius=6.0, by="outcome", colors=_HIT_VERDICTS)),
    "parcels": Overlay("veto_parcels", "批量地块", "Batch parcels", "polygon",
                       Style(color=NOT_CHECKED[0], weight=2.0, radius=6.0, fill_opacity=0.35, by="verdict",
                             colors=VERDICT_COLOURS), other=NOT_CHECKED[1:]),
}
