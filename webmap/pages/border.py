"""The regional analyst's cross-border page (registered by webmap.app): ``/border``."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from geo.border import PAIRS
from geo.capabilities.border import SYNTHETIC_NOTICE
from geo.entities import RISK_LEVELS
from webmap import context
from webmap.i18n import pick_language
from webmap.pages.map import shows_synthetic_data

page_blueprint = Blueprint("pages_border", __name__)

#: Page strings, Chinese first.
BORDER_STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "京津冀跨界风险分析", "en": "Jing-Jin-Ji cross-border risk analysis (跨界)"},
    "map_link": {"zh": "返回一张图", "en": "Back to the map"},
    "language": {"zh": "English", "en": "中文"},
    "pair": {"zh": "边界", "en": "Border"}, "km": {"zh": "两侧距离(公里)", "en": "Distance each side (km)"},
    "segment_km": {"zh": "分段长度(公里)", "en": "Segment length (km)"},
    "corridor_m": {"zh": "管线廊道(米)", "en": "Line corridor (m)"},
    "run": {"zh": "分析", "en": "Analyse"}, "pilot": {"zh": "通武廊试点", "en": "Tongzhou–Wuqing–Langfang pilot"},
    "by_side": {"zh": "两侧统计", "en": "By side"}, "county_pairs": {"zh": "相邻区县", "en": "County pairs"},
    "side": {"zh": "一侧", "en": "Side"}, "risk": {"zh": "风险源", "en": "Risk sources"},
    "hazchem": {"zh": "危化企业", "en": "Hazchem sites"}, "hazards": {"zh": "未整改隐患", "en": "Open hazards"},
    "targets": {"zh": "防护目标", "en": "Protection targets"},
    "crossings": {"zh": "跨界管线/危化品运输路线", "en": "Lines crossing the border"},
    "length": {"zh": "长度(公里)", "en": "Length (km)"}, "points": {"zh": "穿越点", "en": "Crossings"},
    "profile": {"zh": "边界风险剖面", "en": "Border risk profile"},
    "along": {"zh": "沿边界距离(公里)", "en": "Distance along the border (km)"},
    "score": {"zh": "风险值", "en": "Risk score"}, "hottest": {"zh": "高风险段", "en": "Hottest segments"},
    "mutual_aid": {"zh": "跨界应急支援：点击地图选择事故点", "en": "Mutual aid: click the map to place an incident"},
    "resource": {"zh": "资源", "en": "Resource"}, "distance": {"zh": "距离(公里)", "en": "Distance (km)"},
    "eta": {"zh": "预计(分钟)", "en": "ETA (min)"}, "across": {"zh": "跨界", "en": "across"},
    "export": {"zh": "导出", "en": "Export"}, "loading": {"zh": "计算中…", "en": "Working…"},
    "error": {"zh": "出错", "en": "Error"}, "other": {"zh": "其他", "en": "other"},
    "overview": {"zh": "三条省界概览", "en": "All three borders"},
    "overview_note": {"zh": "两侧风险源数", "en": "risk sources on each side"},
    "border_km": {"zh": "边界长度(公里)", "en": "Border (km)"},
    "crossings_short": {"zh": "跨界线路", "en": "Crossing lines"},
    "aid_point": {"zh": "事故点 经度,纬度", "en": "Incident lon,lat"}, "aid_go": {"zh": "查询支援", "en": "Find help"},
    "point_hint": {"zh": "请输入 经度,纬度（如 116.95,39.90）", "en": "enter lon,lat (e.g. 116.95,39.90)"},
    "synthetic": SYNTHETIC_NOTICE,
}


def _strings(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in BORDER_STRINGS.items()}


@page_blueprint.get("/border")
def border_page() -> ResponseReturnValue:
    lang = pick_language(request.args.get("lang"), context.settings().language)
    synthetic = shows_synthetic_data(("risk_sources", "lines"))
    t = _strings(lang)
    config = {
        "lang": lang, "t": t, "synthetic": synthetic, "basemap": {"url": context.settings().basemap_url},
        "view": "pilot" if request.args.get("view") == "pilot" else None,
        "pairs": [{"name": p.name, "label": p.zh if lang == "zh" else p.en} for p in PAIRS.values()],
        "levels": [{"code": c, "label": zh if lang == "zh" else en, "colour": col} for c, zh, en, col in RISK_LEVELS],
    }
    return render_template("border.html", lang=lang, t=t, config=config, synthetic=synthetic)
