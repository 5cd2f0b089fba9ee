"""Accuracy of the offline geocoder on a labelled address set built from the reference data.

Usage: python scripts/eval_geocode.py [--n 10000] [--seed 7] [--worst 12] [--write data/eval/geocode_labelled.csv]

The labelled set is generated deterministically (``--seed``) from data/reference:

* Beijing (70 %): a township and its district, written the ways bureau files write them —
  with or without 北京市 / 北京 / 市辖区, district with or without 区 (朝阳), township full,
  without its suffix (望京) or with another one (南磨房乡 for 南磨房地区), or left out; an
  optional street + number (full-width digits sometimes) and an optional named place
  (an OSM school, hospital, residential compound … inside that township);
* Tianjin / Hebei (25 %): a county with or without province and city (廊坊市香河县,
  三河市燕郊镇…), an optional town the gazetteer does not list, a street and number;
* named places alone (5 %): 北京大学第一医院.

Labels are the district (6-digit adcode), the township (9-digit code) when the address
names one, and the named place's key.  A hand-written set of messy real-world forms is
scored separately.  Prints accuracy tables, the precision mix and the worst confusions.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.capabilities.geocoding import build_gazetteer
from geo.geocoder import Gazetteer, Geocoder, GeocodeResult, Place
from webmap.settings import load_settings

ROADS = (
    "建设路", "幸福路", "人民路", "光明街", "新华大街", "解放路", "胜利街", "文化路", "育才路", "工业大街",
    "和平路", "长安街", "学院路", "科技园路", "兴业大街", "永安路", "团结路", "迎宾路", "滨河路", "花园路",
    "东三环中路", "北四环西路", "西大街", "南大街", "前进胡同", "槐树巷", "京顺路", "通惠河北路", "朝阳路", "復興路",
)  # fmt: skip
UNLISTED_TOWNS = ("城关镇", "新城镇", "北关街道", "燕郊镇", "马头镇", "王庄乡", "大王庄镇", "南关街道")
PLACE_WORDS = ("", "", "", "附近", "东门", "(南门)", "一层")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

#: (address, district name or adcode, township name or "", place name or "") — realistic messy forms.
HAND_WRITTEN: tuple[tuple[str, str, str, str], ...] = (
    ("北京市朝阳区望京街道阜通东大街6号", "朝阳区", "望京街道", ""),
    ("朝阳区望京阜通东大街６号", "朝阳区", "望京街道", ""),
    ("北京朝阳望京", "朝阳区", "望京街道", ""),
    ("北京市市辖区海淀区中关村街道中关村大街27号", "海淀区", "中关村街道", ""),
    ("海淀中关村大街２７号", "海淀区", "", ""),
    ("北京市海淀区学院路街道学院路30号", "海淀区", "学院路街道", ""),
    ("北京大学第一医院", "西城区", "", "北京大学第一医院"),
    ("北京市西城区西什库大街8号北京大学第一医院", "西城区", "", "北京大学第一医院"),
    ("河北省三河市燕郊镇迎宾路10号", "三河市", "", ""),
    ("三河市燕郊镇", "三河市", "", ""),
    ("廊坊市香河县", "香河县", "", ""),
    ("河北廊坊香河县淑阳镇新华大街1号", "香河县", "", ""),
    ("天津市武清区", "武清区", "", ""),
    ("天津武清区杨村街道泉州路", "武清区", "", ""),
    ("天津市和平区南京路", "和平区", "", ""),
    ("河北省张家口市桥西区", "130703", "", ""),
    ("大厂回族自治县", "大厂回族自治县", "", ""),
    ("大厂县夏垫镇", "大厂回族自治县", "", ""),
    ("通州区梨园镇", "通州区", "梨园镇", ""),
    ("通州梨园", "通州区", "梨园镇", ""),
    ("北京市通州区永顺镇", "通州区", "永顺镇", ""),
    ("北京市大兴区黄村镇兴华大街", "大兴区", "黄村地区", ""),
    ("朝阳区南磨房乡", "朝阳区", "南磨房地区", ""),
    ("朝阳区南磨房", "朝阳区", "南磨房地区", ""),
    ("北京市密云县鼓楼街道", "密云区", "鼓楼街道", ""),
    ("北京市延庆县", "延庆区", "", ""),
    ("北京市宣武区", "西城区", "", ""),
    ("亦庄开发区", "大兴区", "北京经济技术开发区", ""),
    ("北京经济技术开发区科创十三街", "大兴区", "北京经济技术开发区", ""),
    ("东城区朝阳门北大街8号", "东城区", "朝阳门街道", ""),
    ("西城区德胜门外大街", "西城区", "", ""),
    ("海淀区海淀街道", "海淀区", "海淀街道", ""),
    ("昌平区回龙观", "昌平区", "回龙观街道", ""),
    ("昌平区回龙观镇", "昌平区", "回龙观街道", ""),
    ("北京市顺义区后沙峪镇", "顺义区", "后沙峪地区", ""),
    ("北京 市 丰台区 丰台街道 丰台北路 18 号", "丰台区", "丰台街道", ""),
    ("中国北京市房山区良乡镇", "房山区", "良乡地区", ""),
    ("北京市怀柔区怀柔镇", "怀柔区", "怀柔地区", ""),
    ("北京市平谷区马坊镇", "平谷区", "马坊地区", ""),
    ("朝阳区八里庄", "朝阳区", "八里庄街道", ""),
    ("海淀区八里庄街道", "海淀区", "八里庄街道", ""),
    ("石家庄市长安区", "130102", "", ""),
    ("保定市涿州市", "涿州市", "", ""),
    ("河北省承德市滦平县", "滦平县", "", ""),
    ("天津市滨海新区塘沽", "滨海新区", "", ""),
    ("天津塘沽区", "滨海新区", "", ""),
    ("蓟县", "蓟州区", "", ""),
)


@dataclass(frozen=True)
class Labelled:
    """One address with its expected district, township ('' = not named) and place key."""

    address: str
    district: str
    township: str
    poi: str
    kind: str


def build_labelled_set(gazetteer: Gazetteer, *, n: int, seed: int) -> list[Labelled]:
    """``n`` labelled addresses, deterministic for ``seed`` (see the module docstring)."""
    rng = random.Random(seed)
    places = gazetteer.places
    townships = sorted((p for p in places.values() if p.level == "township"), key=lambda p: p.code)
    others = sorted(
        (p for p in places.values() if p.level == "district" and not p.code.startswith("11")), key=lambda p: p.code
    )
    name_count = Counter(p.name for p in townships)
    stem_count = Counter(_strip(p.name, ("街道", "地区", "镇", "乡")) for p in townships)
    district_name_count = Counter(p.name for p in places.values() if p.level == "district")
    poi_names = Counter(p.name for p in gazetteer.pois)
    pois_by_township: dict[str, list[Place]] = {}
    identifying = [p for p in gazetteer.pois if poi_names[p.name] == 1 and len(p.name) >= 5 and p.township_code]
    for p in identifying:
        pois_by_township.setdefault(str(p.township_code), []).append(p)
    out: list[Labelled] = []
    while len(out) < n:
        r = rng.random()
        if r < 0.70:
            out.append(_beijing_address(rng, rng.choice(townships), places, name_count, stem_count, pois_by_township))
        elif r < 0.95:
            out.append(_other_address(rng, rng.choice(others), places, district_name_count))
        else:
            p = rng.choice(identifying)
            out.append(Labelled(p.name + rng.choice(PLACE_WORDS), str(p.county_code), "", p.code, "place_only"))
    return out


def _beijing_address(
    rng: random.Random,
    township: Place,
    places: dict[str, Place],
    name_count: Counter[str],
    stem_count: Counter[str | None],
    pois_by_township: dict[str, list[Place]],
) -> Labelled:
    district = places[township.code[:6]]
    parts: list[str] = [rng.choice(("北京市", "北京市", "北京", "", "", "北京市市辖区", "中国北京市"))]
    township_form = rng.choices(("full", "stem", "other_suffix", "omit"), weights=(45, 25, 10, 20))[0]
    stem = _strip(township.name, ("街道", "地区", "镇", "乡"))
    if stem is None or len(stem) < 2:
        township_form = "full" if township_form != "omit" else "omit"
    district_form = rng.choices(("full", "short", "omit"), weights=(70, 20, 10))[0]
    if district_form == "omit" and (
        township_form == "omit" or name_count[township.name] > 1 or (township_form != "full" and stem_count[stem] > 1)
    ):
        district_form = "full"  # without a district the address must still name a unique township
    if district_form == "short":
        parts.append(district.name[:-1])
    elif district_form == "full":
        parts.append(district.name)
    if township_form == "full":
        parts.append(township.name)
    elif township_form == "stem":
        parts.append(str(stem))
    elif township_form == "other_suffix":
        suffix = {"街道": "街道办事处", "地区": rng.choice(("乡", "镇", "地区办事处")), "镇": "地区", "乡": "地区"}
        parts.append(str(stem) + next(v for k, v in suffix.items() if township.name.endswith(k)))
    kind = f"bj:{district_form}/{township_form}"
    has_road = rng.random() < 0.6
    if has_road:
        parts.append(rng.choice(ROADS) + _number(rng))
    poi = ""
    candidates = pois_by_township.get(township.code)
    if candidates and rng.random() < 0.25:
        p = rng.choice(candidates)
        parts.append(p.name + rng.choice(PLACE_WORDS))
        poi = p.code
        kind += "+poi"
    address = _noisy(rng, parts)
    return Labelled(address, district.code, township.code if township_form != "omit" else "", poi, kind)


def _other_address(
    rng: random.Random, district: Place, places: dict[str, Place], district_name_count: Counter[str]
) -> Labelled:
    city = places[str(district.parent_code)]
    province = places[str(city.parent_code)]
    parts = [rng.choice((province.name, province.name[:2], ""))]
    if not city.code.startswith("12"):
        city_form = rng.choice(("full", "short", "omit"))
        if city_form == "omit" and district_name_count[district.name] > 1:
            city_form = "full"
        parts.append({"full": city.name, "short": city.name[:-1], "omit": ""}[city_form])
    parts.append(district.name)
    if rng.random() < 0.4:
        parts.append(rng.choice(UNLISTED_TOWNS))
    if rng.random() < 0.6:
        parts.append(rng.choice(ROADS) + _number(rng))
    return Labelled(_noisy(rng, parts), district.code, "", "", "jj:" + province.name[:2])


def _number(rng: random.Random) -> str:
    number = f"{rng.randint(1, 300)}号"
    if rng.random() < 0.15:
        number = rng.choice(("甲", "乙", "")) + number
    if rng.random() < 0.2:
        number += rng.choice(("院", "楼", "院3号楼"))
    return number.translate(FULLWIDTH) if rng.random() < 0.2 else number


def _noisy(rng: random.Random, parts: list[str]) -> str:
    sep = rng.choices(("", " ", ","), weights=(85, 10, 5))[0]
    return sep.join(p for p in parts if p)


def _strip(name: str, suffixes: tuple[str, ...]) -> str | None:
    for s in suffixes:
        if name.endswith(s):
            return name[: -len(s)]
    return None


def hand_written_set(gazetteer: Gazetteer) -> list[Labelled]:
    """:data:`HAND_WRITTEN` with names resolved to codes (a typo in the table raises)."""
    by_name: dict[tuple[str, str], str] = {}
    for p in gazetteer.places.values():
        by_name[(p.level, p.name)] = p.code
        if p.level == "township":
            by_name[(p.level, p.code[:6] + p.name)] = p.code
    poi_key = {p.name: p.code for p in gazetteer.pois}
    out = []
    for address, district, township, poi in HAND_WRITTEN:
        code = district if district.isdigit() else by_name[("district", district)]
        t = by_name[("township", code + township)] if township else ""
        out.append(Labelled(address, code, t, poi_key[poi] if poi else "", "hand"))
    return out


def score(rows: list[Labelled], results: list[GeocodeResult], gazetteer: Gazetteer) -> dict[str, tuple[int, int]]:
    """(correct, total) for district, township (where named), place (where named)."""
    poi_points = {p.code: (p.lon, p.lat) for p in gazetteer.pois}
    d = t = tn = pc = pn = 0
    for row, res in zip(rows, results, strict=True):
        d += res.county_code == row.district
        if row.township:
            tn += 1
            t += res.township_code == row.township
        if row.poi:
            pn += 1
            pc += res.precision == "poi" and (res.lon, res.lat) == poi_points[row.poi]
    return {"district": (d, len(rows)), "township": (t, tn), "poi": (pc, pn)}


def _pct(pair: tuple[int, int]) -> str:
    correct, total = pair
    return f"{100 * correct / total:6.2f} %" if total else "     —"


def print_tables(name: str, rows: list[Labelled], results: list[GeocodeResult], gazetteer: Gazetteer) -> None:
    s = score(rows, results, gazetteer)
    print(f"\n{name}: {len(rows):,} addresses")
    print(f"  {'part':10s} {'correct':>9s} {'labelled':>9s} {'accuracy':>9s}")
    for part, pair in s.items():
        print(f"  {part:10s} {pair[0]:9,d} {pair[1]:9,d} {_pct(pair):>9s}")
    precision = Counter(r.precision for r in results)
    print("  precision: " + ", ".join(f"{p} {precision[p]:,}" for p in ("poi", "road", "township", "district",
                                                                         "city", "province", "none") if precision[p]))


def print_by_kind(rows: list[Labelled], results: list[GeocodeResult], gazetteer: Gazetteer) -> None:
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.kind, []).append(i)
    print(f"\n  {'form (district/township)':26s} {'n':>6s} {'district':>9s} {'township':>9s} {'poi':>9s}")
    for kind in sorted(groups):
        idx = groups[kind]
        s = score([rows[i] for i in idx], [results[i] for i in idx], gazetteer)
        print(f"  {kind:26s} {len(idx):6,d} {_pct(s['district']):>9s} {_pct(s['township']):>9s} {_pct(s['poi']):>9s}")


def print_worst(rows: list[Labelled], results: list[GeocodeResult], gazetteer: Gazetteer, worst: int) -> None:
    places = gazetteer.places

    def name(code: str | None) -> str:
        return "—" if not code else (places[code].name if code in places else code)

    for part in ("district", "township"):
        confusion: Counter[tuple[str, str]] = Counter()
        example: dict[tuple[str, str], str] = {}
        for row, res in zip(rows, results, strict=True):
            expected = row.district if part == "district" else row.township
            got = res.county_code if part == "district" else res.township_code
            if expected and got != expected:
                key = (name(expected), name(got))
                confusion[key] += 1
                example.setdefault(key, row.address)
        print(f"\n  worst {part} confusions (expected -> got, count, example):")
        if not confusion:
            print("    none")
        for (exp, got), count in confusion.most_common(worst):
            print(f"    {exp} -> {got}  {count:4d}  {example[(exp, got)]}")


def write_csv(rows: list[Labelled], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["address", "district_code", "township_code", "poi_key", "form"])
        for r in rows:
            w.writerow([r.address, r.district, r.township, r.poi, r.kind])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="generated addresses")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worst", type=int, default=12, help="confusions to list per part")
    parser.add_argument("--write", type=Path, default=None, help="also write the generated set as CSV")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    gazetteer = build_gazetteer(load_settings().paths.reference_dir)
    print(f"gazetteer: {gazetteer.counts()} (built in {time.perf_counter() - t0:.1f} s from data/reference)")
    rows = build_labelled_set(gazetteer, n=args.n, seed=args.seed)
    if args.write:
        write_csv(rows, args.write)
    geocoder = Geocoder(gazetteer, cache_size=0)
    results = geocoder.geocode_many([r.address for r in rows])
    print_tables(f"generated set (seed {args.seed})", rows, results, gazetteer)
    print_by_kind(rows, results, gazetteer)
    print_worst(rows, results, gazetteer, args.worst)

    hand = hand_written_set(gazetteer)
    hand_results = geocoder.geocode_many([r.address for r in hand])
    print_tables("hand-written messy set", hand, hand_results, gazetteer)
    for row, res in zip(hand, hand_results, strict=True):
        ok = res.county_code == row.district and (not row.township or res.township_code == row.township)
        if not ok:
            print(f"    MISS {row.address}: expected {row.district}/{row.township or '—'}, "
                  f"got {res.county_code}/{res.township_code} ({res.precision}) {res.matched}")
    s = score(rows, results, gazetteer)
    ok = s["district"][0] >= 0.98 * s["district"][1] and s["township"][0] >= 0.90 * s["township"][1]
    print(f"\ntargets (district ≥ 98 %, township ≥ 90 %): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
