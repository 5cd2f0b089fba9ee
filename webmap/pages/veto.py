"""The planner's site-veto page (registered by webmap.app): ``/veto``."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from geo.capabilities.veto import SYNTHETIC_NOTICE
from geo.veto import VERDICT_LABELS
from webmap import context
from webmap.i18n import pick_language
from webmap.pages.map import shows_synthetic_data

page_blueprint = Blueprint("pages_veto", __name__)

#: Page strings, Chinese first.
VETO_STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "规划选址一票否决审查", "en": "Site veto check (一票否决)"},
    "map_link": {"zh": "返回一张图", "en": "Back to the map"},
    "language": {"zh": "English", "en": "中文"},
    "land_use": {"zh": "拟建用地性质", "en": "Proposed land use"},
    "site_name": {"zh": "项目/地块名称", "en": "Project / parcel name"},
    "address": {"zh": "地址（可替代绘制）", "en": "Address (instead of drawing)"},
    "draw_hint": {"zh": "在地图上绘制点或多边形（左侧工具），或上传地块文件",
                  "en": "Draw a point or polygon on the map (tools at left), or upload a parcel file"},
    "evaluate": {"zh": "审查", "en": "Check"},
    "upload": {"zh": "批量上传地块（GeoJSON/GeoPackage/CSV/Shapefile zip）",
               "en": "Batch upload (GeoJSON / GeoPackage / CSV / zipped Shapefile)"},
    "land_use_column": {"zh": "用地性质字段", "en": "Land-use column"},
    "download": {"zh": "下载结果", "en": "Download results"},
    "print": {"zh": "打印审查单", "en": "Print verdict sheet"},
    "sheet_title": {"zh": "规划选址安全审查单", "en": "Site safety verdict sheet"},
    "verdict": {"zh": "结论", "en": "Verdict"},
    "rule": {"zh": "规则", "en": "Rule"},
    "hazard": {"zh": "危险源/区域", "en": "Hazard / zone"},
    "found": {"zh": "实测距离(米)", "en": "Distance found (m)"},
    "required": {"zh": "要求距离(米)", "en": "Distance required (m)"},
    "citation": {"zh": "依据", "en": "Citation"},
    "status": {"zh": "状态", "en": "Status"},
    "all_rules": {"zh": "全部规则评估", "en": "Every rule evaluated"},
    "rule_set_version": {"zh": "规则集版本", "en": "Rule-set version"},
    "data_stamp": {"zh": "数据版本/评估时间", "en": "Data versions / evaluated at"},
    "no_site": {"zh": "请先绘制选址或输入地址", "en": "Draw a site or enter an address first"},
    "default_note": {"zh": "标注“默认值”的距离须对照标准原文核实",
                     "en": "Distances marked default must be verified against the standard's text"},
    "hit": {"zh": "命中", "en": "hit"}, "clear": {"zh": "未命中", "en": "clear"},
    "not_applicable": {"zh": "不适用", "en": "not applicable"},
    "outside_region": {"zh": "区域外", "en": "outside region"}, "no_data": {"zh": "无数据", "en": "no data"},
    "parcels": {"zh": "地块", "en": "parcels"},
    "protection_class": {"zh": "防护目标类别", "en": "Protection class"},
    "synthetic": SYNTHETIC_NOTICE,
}


def _strings(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in VETO_STRINGS.items()}


@page_blueprint.get("/veto")
def veto_page() -> ResponseReturnValue:
    lang = pick_language(request.args.get("lang"), context.settings().language)
    rules = context.current().rule_set()
    synthetic = shows_synthetic_data(("hazchem_sites", "lines"))
    config = {
        "lang": lang, "t": _strings(lang), "verdicts": VERDICT_LABELS,
        "land_uses": [u.as_dict() for u in rules.land_uses],
        "protection_classes": {k: v.model_dump() for k, v in rules.protection_classes.items()},
        "rule_set_version": rules.version, "synthetic": synthetic,
        "basemap": {"url": context.settings().basemap_url},
    }
    return render_template("veto.html", lang=lang, t=_strings(lang), config=config, synthetic=synthetic)
