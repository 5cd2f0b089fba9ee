"""Benchmark the loader: bureau-style files of every kind into PostGIS and the GeoPackage.

    python scripts/bench_etl.py --scale 0.1            # PostGIS from RISKMAP_TEST_DATABASE_URL
    python scripts/bench_etl.py --scale 1 --stores geopackage

Generates the input files itself (Chinese headers; risk sources in GBK with a per-row
坐标系 column mixing WGS-84 and GCJ-02; hazardous-chemical sites in GCJ-02 stated with
--datum; resources in BD-09; about 2 % dirty rows: bad credit codes, empty names,
swapped coordinates, unknown levels), calibrated at scale 1.0 to the seed figures of
DOMAIN.md (~220,000 rows in all), then loads each kind into a fresh store of each kind
and prints one table row per (kind, store): rows, seconds (wall), CPU seconds of this
process (PostGIS server time is not included), rows/s and the peak RSS of this process
so far.  A final row per store gives the totals; a second pass re-loads every file and
must report every row unchanged.

Numbers on a shared 2-core machine are noisy; compare CPU time across runs.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely

from geo import coords
from geo.capabilities.loading import load_file
from geo.etl.values import level_from_ls, make_credit_code
from geo.files.reference import read_reference
from geo.jurisdiction import assign_jurisdiction, build_jurisdiction_index
from geo.stores.protocol import Store
from webmap.settings import load_settings

REFERENCE_DIR = load_settings().paths.reference_dir

#: Rows per kind at scale 1.0 (DOMAIN.md seed figures; protection targets, lines, areas and
#: parcels are sized like a district's planning data).
COUNTS_AT_SCALE_1: dict[str, int] = {
    "units": 9_911,
    "risk_sources": 162_699,
    "hazchem_sites": 2_377,  # 1,027 hazchem units + ~1,000 gas stations + 350 closed ones
    "hidden_hazards": 26_668,
    "resources": 23_044,  # 16,809 teams + 5,635 experts + depots and shelters
    "protection_targets": 3_000,
    "lines": 60,
    "areas": 300,
    "parcels": 2_000,
}
DIRTY_SHARE = 0.02


# --------------------------------------------------------------------------- generator


def _beijing_points(rng: np.random.Generator, n: int, beijing: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points inside Beijing, denser towards the centre (WGS-84)."""
    lon = np.empty(0)
    lat = np.empty(0)
    shapely.prepare(beijing)
    while lon.size < n:
        m = max(2 * (n - lon.size), 1000)
        x = 116.40 + rng.normal(0, 0.35, m)
        y = 39.92 + rng.normal(0, 0.25, m)
        inside = shapely.contains_xy(beijing, x, y)
        lon = np.concatenate([lon, x[inside]])
        lat = np.concatenate([lat, y[inside]])
    return lon[:n], lat[:n]


def _write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _dirty(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which rows get a defect, and which one (0 = clean, 1..4 = defect kinds)."""
    kinds = np.zeros(n, dtype=int)
    dirty = rng.random(n) < DIRTY_SHARE
    kinds[dirty] = rng.integers(1, 5, int(dirty.sum()))
    return kinds


def generate(out: Path, scale: float, seed: int = 1) -> dict[str, tuple[Path, str | None]]:
    """Write one file per kind into ``out``; returns kind → (path, --datum)."""
    rng = np.random.default_rng(seed)
    areas = read_reference("areas", REFERENCE_DIR)
    index = build_jurisdiction_index(areas)
    beijing = areas.loc[areas["area_code"] == "110000", "geometry"].iloc[0]
    n = {k: max(1, round(v * scale)) for k, v in COUNTS_AT_SCALE_1.items()}
    files: dict[str, tuple[Path, str | None]] = {}

    # units
    ulon, ulat = _beijing_points(rng, n["units"], beijing)
    placement = assign_jurisdiction(index, shapely.points(ulon, ulat))
    counties = [c or "110105" for c in placement.county_code]
    names = [d or "朝阳区" for d in placement.district_name]
    credit = [make_credit_code(f"91{c}{i:09d}") for i, c in enumerate(counties)]
    defects = _dirty(rng, n["units"])
    rows: list[list[object]] = []
    for i in range(n["units"]):
        code, name, x, y = credit[i], f"北京测试企业{i}有限公司", f"{ulon[i]:.7f}", f"{ulat[i]:.7f}"
        if defects[i] == 1:
            code = code[:-1] + ("0" if code[-1] != "0" else "1")
        elif defects[i] == 2:
            name = ""
        elif defects[i] == 3:
            x, y = y, x
        rows.append([name, code, f"{names[i]}某路{i % 300}号", names[i], "制造业", x, y, "是"])
    files["units"] = (_write_csv(out / "units.csv", ["单位名称", "统一社会信用代码", "地址", "所属区", "行业",
                                                     "经度", "纬度", "合成数据"], rows), None)

    # risk sources: GBK, per-row datum (half GCJ-02)
    owner = rng.integers(0, n["units"], n["risk_sources"])
    jitter = rng.normal(0, 0.0005, (2, n["risk_sources"]))
    rlon, rlat = ulon[owner] + jitter[0], ulat[owner] + jitter[1]
    gcj = rng.random(n["risk_sources"]) < 0.5
    glon, glat = coords.convert(rlon[gcj], rlat[gcj], src="wgs84", dst="gcj02")
    rlon[gcj], rlat[gcj] = glon, glat
    likelihood = rng.choice(5, n["risk_sources"], p=(0.45, 0.3, 0.15, 0.07, 0.03)) + 1
    severity = rng.choice(5, n["risk_sources"], p=(0.3, 0.3, 0.2, 0.15, 0.05)) + 1
    by_code = {"red": "重大", "orange": "较大", "yellow": "一般", "blue": "低"}
    defects = _dirty(rng, n["risk_sources"])
    rows = []
    for i in range(n["risk_sources"]):
        u = int(owner[i])
        level = by_code[level_from_ls(int(likelihood[i]), int(severity[i]))]
        x, y = f"{rlon[i]:.7f}", f"{rlat[i]:.7f}"
        if defects[i] == 1:
            level = "很高"
        elif defects[i] == 3:
            x, y = y, x
        rows.append([credit[u], f"北京测试企业{u}有限公司", f"FX{i:06d}", f"风险源{i}", "火灾", level,
                     int(likelihood[i]), int(severity[i]), names[u], x, y,
                     "GCJ-02" if gcj[i] else "WGS84", "是"])
    files["risk_sources"] = (_write_csv(
        out / "risk_sources.csv",
        ["统一社会信用代码", "单位名称", "风险源编码", "风险源名称", "风险类型", "风险等级", "可能性", "严重性",
         "所属区", "经度", "纬度", "坐标系", "合成数据"], rows, encoding="gbk"), None)

    # hazchem sites: GCJ-02 file
    hlon, hlat = _beijing_points(rng, n["hazchem_sites"], beijing)
    hlon, hlat = coords.convert(hlon, hlat, src="wgs84", dst="gcj02")
    types = ("生产", "储存", "经营", "使用", "加油站")
    rows = [[make_credit_code(f"91110112{i:09d}"), f"危化企业{i}", types[i % 5], "一级" if i % 7 == 0 else "",
             f"{hlon[i]:.7f}", f"{hlat[i]:.7f}", "否" if i % 9 == 0 else "是", "是"] for i in range(n["hazchem_sites"])]
    files["hazchem_sites"] = (_write_csv(
        out / "hazchem_sites.csv",
        ["统一社会信用代码", "单位名称", "场所类型", "重大危险源等级", "经度", "纬度", "在营", "合成数据"], rows),
        "gcj02")

    # hidden hazards
    owner = rng.integers(0, n["units"], n["hidden_hazards"])
    rows = []
    for i in range(n["hidden_hazards"]):
        u = int(owner[i])
        rectified = "" if i % 1000 == 0 else f"2018-{(i % 12) + 1}-{(i % 27) + 2}"
        rows.append([f"YH{i:06d}", credit[u], "一般隐患" if i % 50 else "重大隐患", "消防通道堵塞",
                     f"2018/{(i % 12) + 1}/1", rectified, names[u], f"{ulon[u]:.7f}", f"{ulat[u]:.7f}", "是"])
    files["hidden_hazards"] = (_write_csv(
        out / "hidden_hazards.csv", ["隐患编号", "统一社会信用代码", "隐患级别", "隐患描述", "发现日期", "整改完成日期",
                                     "所属区", "经度", "纬度", "合成数据"], rows), None)

    # resources: BD-09 per row
    plon, plat = _beijing_points(rng, n["resources"], beijing)
    blon, blat = coords.convert(plon, plat, src="wgs84", dst="bd09")
    rtypes = ("救援队伍", "专家", "物资库", "装备库", "避难场所")
    rows = [[f"ZY{i:06d}", f"应急资源{i}", rtypes[min(i % 10, 4)], int(rng.integers(5, 80)),
             f"{blon[i]:.7f}", f"{blat[i]:.7f}", "百度", "是"] for i in range(n["resources"])]
    files["resources"] = (_write_csv(
        out / "resources.csv",
        ["资源编码", "名称", "资源类型", "人数", "经度", "纬度", "坐标系", "合成数据"], rows), None)

    # protection targets
    tlon, tlat = _beijing_points(rng, n["protection_targets"], beijing)
    ttypes = ("学校", "幼儿园", "医院", "居民区", "养老院")
    rows = [[f"MB{i:05d}", f"防护目标{i}", ttypes[i % 5], f"{tlon[i]:.7f}", f"{tlat[i]:.7f}", "是"]
            for i in range(n["protection_targets"])]
    files["protection_targets"] = (_write_csv(
        out / "protection_targets.csv", ["目标编码", "名称", "目标类型", "经度", "纬度", "合成数据"], rows), None)

    # lines (WKT), areas (WKT polygons), parcels (WKT polygons)
    rows = []
    for i in range(n["lines"]):
        x0, y0 = 116.0 + (i % 10) * 0.1, 39.6 + (i // 10) * 0.05
        pts = ", ".join(f"{x0 + k * 0.02:.6f} {y0 + 0.01 * np.sin(k):.6f}" for k in range(40))
        rows.append([f"GX{i:04d}", f"管线{i}", "输油管道" if i % 2 else "危化品运输路线", f"LINESTRING ({pts})", "是"])
    files["lines"] = (_write_csv(out / "lines.csv", ["线路编码", "名称", "线路类型", "wkt", "合成数据"], rows), None)
    alon, alat = _beijing_points(rng, n["areas"] + n["parcels"], beijing)
    rows = [[f"Q{i:04d}", f"园区{i}", "园区", shapely.box(alon[i], alat[i], alon[i] + 0.01, alat[i] + 0.008).wkt, "是"]
            for i in range(n["areas"])]
    files["areas"] = (_write_csv(out / "areas.csv", ["区域代码", "名称", "区域类型", "wkt", "合成数据"], rows), None)
    rows = [[f"DK{i:05d}", f"地块{i}", "居住用地", shapely.box(alon[j], alat[j], alon[j] + 0.002, alat[j] + 0.002).wkt]
            for i, j in enumerate(range(n["areas"], n["areas"] + n["parcels"]))]
    files["parcels"] = (_write_csv(out / "parcels.csv", ["地块编号", "名称", "用地性质", "wkt"], rows), None)
    return files


# ------------------------------------------------------------------------------ stores


@contextmanager
def open_bench_store(kind: str, folder: Path, admin_url: str | None) -> Iterator[Store]:
    """A fresh store of ``kind``: a new PostGIS database (dropped afterwards) or a new .gpkg."""
    if kind == "geopackage":
        from geo.stores.geopackage import GeoPackageStore

        store: Store = GeoPackageStore(folder / f"bench-{uuid.uuid4().hex[:6]}.gpkg")
        store.init_schema()
        yield store
        store.close()
        return
    from sqlalchemy import create_engine, make_url, text

    from geo.stores.postgis import PostGISStore

    if not admin_url:
        raise SystemExit("PostGIS needs --database-url or RISKMAP_TEST_DATABASE_URL")
    name = f"bench_etl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    engine = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
    engine.dispose()
    store = PostGISStore(url.render_as_string(hide_password=False))
    try:
        store.init_schema()
        yield store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="1.0 = full seed scale (~220k rows)")
    parser.add_argument("--stores", default="postgis,geopackage", help="comma-separated: postgis,geopackage")
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_TEST_DATABASE_URL"),
                        help="admin URL of a PostGIS server (a scratch database is created and dropped)")
    parser.add_argument("--keep", type=Path, default=None, help="write the generated files here and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files, gen_s, _ = _timed(lambda: generate(folder, args.scale))
        assert isinstance(files, dict)
        (index, index_s, _) = _timed(lambda: build_jurisdiction_index(read_reference("areas", REFERENCE_DIR)))
        total_rows = sum(sum(1 for _ in p.open("rb")) - 1 for p, _ in files.values())
        print(f"scale {args.scale}: {total_rows} rows in {len(files)} files, generated in {gen_s:.1f} s; "
              f"reference index {index_s:.2f} s; {os.cpu_count()} CPUs (shared: noisy)")
        header = f"{'kind':<20}{'store':<12}{'rows':>9}{'loaded':>9}{'rejected':>9}{'wall s':>9}{'cpu s':>8}" \
                 f"{'rows/s':>9}{'peak MB':>9}  re-run"
        print(header)
        print("-" * len(header))
        for store_kind in args.stores.split(","):
            with open_bench_store(store_kind, Path(tmp), args.database_url) as store:
                sum_rows = sum_wall = sum_cpu = 0.0
                for kind, (path, datum) in files.items():
                    report, wall, cpu = _timed(lambda k=kind, p=path, d=datum: load_file(
                        store, k, p, datum=d, reference=index))
                    rerun, _, _ = _timed(lambda k=kind, p=path, d=datum: load_file(
                        store, k, p, datum=d, reference=index))
                    again = f"unchanged {rerun.unchanged}/{rerun.valid}"  # type: ignore[attr-defined]
                    sum_rows += report.rows  # type: ignore[attr-defined]
                    sum_wall += wall
                    sum_cpu += cpu
                    print(f"{kind:<20}{store_kind:<12}{report.rows:>9}{report.inserted:>9}"  # type: ignore[attr-defined]
                          f"{report.rejected:>9}{wall:>9.2f}{cpu:>8.2f}{report.rows / wall:>9.0f}"  # type: ignore[attr-defined]
                          f"{_peak_rss_mb():>9.0f}  {again}")
                print(f"{'TOTAL':<20}{store_kind:<12}{int(sum_rows):>9}{'':>9}{'':>9}{sum_wall:>9.2f}{sum_cpu:>8.2f}"
                      f"{sum_rows / sum_wall:>9.0f}{_peak_rss_mb():>9.0f}")
                print("-" * len(header))


if __name__ == "__main__":
    main()
