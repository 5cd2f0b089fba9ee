"""Area risk API (registered under /api/v1 by webmap.app).

* ``GET /areas/{unit}?method=…[&bbox=…]`` — GeoJSON of the latest run: level, score,
  counts per level, population, km² per area (run id, time and parameters at the top);
* ``GET /areas/{unit}/{area_code}?method=…`` — why: the top contributing sources with
  their weights, each component score, the thresholds crossed, and the run's parameters;
* ``GET /heatmap[?cell=…&bandwidth=…]`` — where the heat-map image is and where it goes:
  its PNG URL, WGS-84 bounds (Leaflet ``imageOverlay``), class breaks and colours;
* ``GET /heatmap.png[?cell=…&bandwidth=…]`` — the PNG (Web Mercator pixels, palette
  ColorBrewer YlOrRd, transparent where no risk).

Unknown unit or method → 400 naming it; an unknown area → 404.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from flask import Blueprint, Response, jsonify, url_for
from flask.typing import ResponseReturnValue

from geo.area_risk import METHODS, UNITS
from geo.capabilities.area_risk import HeatmapImage, heatmap_image, read_area_results, scoped_explanation
from geo.entities import RISK_LEVELS
from geo.errors import NotFound
from webmap import context
from webmap.geojson import feature_collection
from webmap.routes import BBOX, Param, args, declare

blueprint = Blueprint("api_areas", __name__)

LEVEL_ZH = {code: zh for code, zh, _, _ in RISK_LEVELS}
_PROPERTIES = ["area_code", "name", "parent_code", "level", "level_zh", "score", "count_red", "count_orange",
               "count_yellow", "count_blue", "population", "area_km2"]


UNIT = Param("unit", "string", "area unit", location="path", choices=tuple(UNITS))
METHOD = Param("method", "string", "aggregation method", default="density", choices=tuple(METHODS))
HEATMAP = (Param("cell", "number", "cell size, metres (default: the area-risk configuration's)", optional=True,
                 minimum=50, maximum=5000),
           Param("bandwidth", "number", "kernel bandwidth, metres (default: the configuration's)", optional=True,
                 minimum=100, maximum=50_000))


def _run_info(rows: Any) -> dict[str, Any]:
    if not len(rows):
        return {"run_id": None, "run_at": None, "params": None}
    first = rows.iloc[0]
    run = context.store().read_runs([first["run_id"]]).get(first["run_id"])
    return {"run_id": first["run_id"], "run_at": first["run_at"], "params": run.params if run else None}


@blueprint.get("/areas/<unit>")
@declare("map.view", "Area risk of the latest run as GeoJSON: level, score, counts per level, population, km²",
         UNIT, METHOD, BBOX, tags=("area risk",))
def areas(unit: str) -> ResponseReturnValue:
    method, bbox = args()["method"], args()["bbox"]
    rows = read_area_results(context.store(), unit, method)
    if bbox is not None and len(rows):
        rows = rows[rows.intersects(_box(bbox))]
    rows = rows.assign(level_zh=rows["level"].map(LEVEL_ZH))
    body = feature_collection(rows, columns=_PROPERTIES)
    return jsonify({**body, "unit": unit, "method": method, **_run_info(rows)})


@blueprint.get("/areas/<unit>/<area_code>")
@declare("map.view", "Why an area has its level: top contributing sources, component scores, thresholds crossed",
         UNIT, Param("area_code", "string", "the area's code", location="path", max_length=64), METHOD,
         tags=("area risk",))
def area_detail(unit: str, area_code: str) -> ResponseReturnValue:
    method = args()["method"]
    rows = read_area_results(context.store(), unit, method, area_code=area_code)
    if not len(rows):
        raise NotFound(f"no {method} result for {unit} {area_code!r} (run `riskmap aggregate` first?)")
    row = rows.iloc[0]
    detail = {c: _plain(row[c]) for c in _PROPERTIES if c != "level_zh"}
    explanation = scoped_explanation(context.store(), json.loads(row["explanation"]), context.scope())
    return jsonify({"unit": unit, "method": method, **detail, "level_zh": LEVEL_ZH.get(row["level"]),
                    "explanation": explanation, **_run_info(rows)})


def _heatmap_image(cell: float | None, bandwidth: float | None) -> HeatmapImage:
    ctx = context.current()
    return heatmap_image(ctx.store, config=ctx.area_config(), cell_m=cell, bandwidth_m=bandwidth, cache=ctx.cache,
                         scope=context.scope())


@blueprint.get("/heatmap")
@declare("map.view", "Where the heat-map image is and where it goes: PNG URL, WGS-84 bounds, breaks, colours",
         *HEATMAP, tags=("area risk",))
def heatmap() -> ResponseReturnValue:
    cell, bandwidth = args()["cell"], args()["bandwidth"]
    image = _heatmap_image(cell, bandwidth)
    west, south, east, north = image.bounds
    png_args: dict[str, Any] = {k: v for k, v in (("cell", cell), ("bandwidth", bandwidth)) if v is not None}
    return jsonify({
        "png": url_for("api_areas.heatmap_png", **png_args),
        "bounds": [[south, west], [north, east]],  # Leaflet LatLngBounds order
        "bbox": [west, south, east, north],
        "breaks": image.breaks,
        "colours": image.colours,
        "units": "risk weight per km² (red 100 / orange 30 / yellow 10 / blue 1)",
        "legend_zh": "风险热力（加权核密度，每平方公里权重）",
    })


@blueprint.get("/heatmap.png")
@declare("map.view", "The heat-map PNG (Web Mercator pixels, ColorBrewer YlOrRd)", *HEATMAP, produces="image/png",
         tags=("area risk",))
def heatmap_png() -> ResponseReturnValue:
    cell, bandwidth = args()["cell"], args()["bandwidth"]
    private = context.scope() is not None  # drawn from one scope's sources: no shared cache keeps it
    return Response(_heatmap_image(cell, bandwidth).png, mimetype="image/png",
                    headers={"Cache-Control": "private, no-cache" if private else "no-cache"})


def _box(bbox: tuple[float, float, float, float]) -> Any:
    from shapely.geometry import box

    return box(*bbox)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
