"""Categorical columns: the codes each accepts and the words bureau files use for them.

Codes follow :mod:`geo.entities` and :mod:`geo.reference`.  Words are matched folded
(:func:`geo.etl.values.fold_text`: half-width, lower case, no whitespace).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from geo.etl.values import fold_text


@dataclass(frozen=True)
class Vocabulary:
    """Codes of a categorical column with the words bureau files use for them.

    An ``open`` vocabulary keeps an unknown value as given (with a warning); a closed
    one rejects it.  Lower-case ASCII identifiers ("police_station") are always taken
    as codes in an open vocabulary.
    """

    codes: Mapping[str, tuple[str, ...]]
    open: bool = False

    def lookup(self) -> dict[str, str]:
        """Folded code or word → code."""
        table = {}
        for code, words in self.codes.items():
            for word in (code, *words):
                table[fold_text(word)] = code
        return table

    def accepted(self) -> str:
        """The codes with their first two words, for a reason text ("high (高敏感/高敏感防护目标), …")."""
        return ", ".join(f"{code} ({'/'.join(words[:2])})" for code, words in self.codes.items())


#: (kind or "*", column) → vocabulary.  Codes follow geo.entities and geo.reference.
VOCABULARIES: dict[tuple[str, str], Vocabulary] = {
    ("*", "site_type"): Vocabulary({
        "production": ("生产", "生产企业", "生产单位", "危化品生产"),
        "storage": ("储存", "仓储", "储存企业", "储存单位", "仓储企业"),
        "business": ("经营", "经营企业", "经营单位", "批发", "带储存经营", "不带储存经营"),
        "use": ("使用", "使用企业", "使用单位"),
        "gas_station": ("加油站", "加油加气站", "加气站", "gas station"),
        "fireworks": ("烟花爆竹", "烟花爆竹零售", "烟花爆竹零售点", "烟花"),
    }, open=True),
    ("*", "resource_type"): Vocabulary({
        "team": ("救援队伍", "应急救援队伍", "队伍", "救援队", "专业救援队伍"),
        "expert": ("专家", "应急专家"),
        "equipment_depot": ("装备库", "应急装备库", "装备储备库", "装备"),
        "supply_depot": ("物资库", "应急物资库", "物资储备库", "物资"),
        "shelter": ("避难场所", "应急避难场所", "避难所"),
        "fire_station": ("消防站", "消防救援站", "消防队"),
        "police_station": ("派出所", "公安派出所"),
        "social": ("社会资源", "社会应急资源"),
    }, open=True),
    ("*", "target_type"): Vocabulary({
        "school": ("学校", "中小学", "小学", "中学"),
        "kindergarten": ("幼儿园", "托儿所"),
        "hospital": ("医院", "卫生院", "医疗机构"),
        "university": ("大学", "高校", "高等院校"),
        "college": ("学院", "职业学院", "高职"),
        "care_home": ("养老院", "敬老院", "养老机构", "福利院"),
        "prison": ("监狱", "看守所"),
        "residential": ("居民区", "居住区", "住宅区", "小区", "社区"),
        "crowded_place": ("人员密集场所", "商场", "体育场馆", "体育馆", "车站", "公共场所"),
        "cultural_relic": ("文物保护单位", "文物"),
        "military": ("军事设施", "军事管理区"),
        "industrial_landuse": ("工业用地",),
    }, open=True),
    ("*", "sensitivity"): Vocabulary({
        "high": ("高敏感", "高敏感防护目标", "高敏感目标", "高"),
        "important": ("重要", "重要防护目标", "重要目标"),
        "general1": ("一般一类", "一般防护目标一类", "一般1类", "一类"),
        "general2": ("一般二类", "一般防护目标二类", "一般2类", "二类"),
        "general3": ("一般三类", "一般防护目标三类", "一般3类", "三类"),
    }),
    ("hidden_hazards", "severity"): Vocabulary({
        "major": ("重大", "重大隐患", "重大事故隐患"),
        "general": ("一般", "一般隐患", "一般事故隐患"),
    }),
    ("*", "status"): Vocabulary({
        "closed": ("已整改", "整改完成", "已完成", "已销号", "销号", "已闭环", "闭环", "rectified", "done"),
        "open": ("未整改", "整改中", "待整改", "正在整改", "未完成", "未销号", "pending"),
    }),
    ("*", "area_type"): Vocabulary({
        "province": ("省", "省级", "直辖市"),
        "city": ("市", "地级市", "市级"),
        "district": ("区", "县", "区县", "县级", "区/县"),
        "township": ("街道", "乡镇", "乡", "镇", "街乡", "街道乡镇"),
        "community": ("社区", "村", "村居", "社区村"),
        "zone": ("园区", "功能区", "区域", "片区"),
    }),
    ("*", "line_type"): Vocabulary({
        "oil_pipeline": ("输油管道", "输油管线", "原油管道", "成品油管道", "石油管道"),
        "gas_pipeline": ("输气管道", "燃气管道", "天然气管道", "燃气管线", "输气管线"),
        "water_pipeline": ("输水管道", "供水管道", "给水管道"),
        "hazmat_route": ("危化品运输路线", "危险货物运输路线", "危险化学品运输路线", "危化品运输通道", "危运路线"),
        "ring_road": ("环路", "环线"),
        "border": ("边界", "界线", "行政边界"),
    }, open=True),
}


def vocabulary_for(kind: str, column: str) -> Vocabulary | None:
    """The vocabulary of ``column`` in files of ``kind`` (a kind's own entry first), or None."""
    return VOCABULARIES.get((kind, column)) or VOCABULARIES.get(("*", column))
