"""Write the synthetic demo input files (``riskmap demo-data``) and their manifest.

:func:`write_demo_files` reads the vendored reference geography, asks
:func:`geo.capabilities.demo.generators.generate_demo_files` for the tables and writes each one the
way a bureau hands it over — CSV in UTF-8, UTF-8 with BOM or GBK, one XLSX with a
title row, one GeoJSON (WGS-84) — plus ``manifest.json``, which tells the loader
(and the tests) for every file: kind, path, format, encoding, the ``--datum`` to
pass (null when a 坐标系 column states it per row), rows, address-only rows, the
dirty rows planted by reason (counts, and ``dirty_rows_at``: the row numbers as the
loader reports them — the spreadsheet row, header = 1; the feature number in GeoJSON),
what the loader should do with each reason (``dirty_outcomes``), how many rows it
should reject with and without a geocoder, the warnings expected on clean rows, the
Chinese values of enumerated columns (``vocabulary``), and the ``load_order``.
Dirty rows never lack coordinates, so "rejected" counts add up.

Deterministic: the same ``seed`` and ``scale`` give the same bytes in every file,
the manifest included (no timestamps; the XLSX zip entries carry a fixed date).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.capabilities.demo.generators import (
    DIRTY_OUTCOMES,
    SCALE_ONE_COUNTS,
    DemoFile,
    DemoReference,
    build_demo_reference,
    generate_demo_files,
)
from geo.files.reference import read_reference

MANIFEST_NAME = "manifest.json"
_NUMBER_LIST = re.compile(r"\[\s+\d+(?:,\s+\d+)*\s+\]")
#: The date every XLSX entry and property carries, so the bytes depend only on the content.
_FIXED_TIME = datetime(2018, 12, 31, 0, 0, 0)


@dataclass(frozen=True)
class ManifestEntry:
    """One written file, as listed in ``manifest.json``."""

    kind: str
    path: str
    format: str
    encoding: str | None
    datum: str | None
    datum_column: str | None
    header_row: int
    rows: int
    address_only_rows: int
    dirty_rows: dict[str, int]
    expected_rejected: int
    dirty_rows_at: dict[str, list[int]]
    warnings: dict[str, int]
    bytes: int
    sha256: str
    description: str
    vocabulary: dict[str, dict[str, str]]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "datum": self.datum,
            "datum_column": self.datum_column,
            "header_row": self.header_row,
            "rows": self.rows,
            "address_only_rows": self.address_only_rows,
            "dirty_rows": self.dirty_rows,
            "dirty_total": sum(self.dirty_rows.values()),
            "expected_rejected": self.expected_rejected,
            "expected_rejected_without_geocoder": self.expected_rejected + self.address_only_rows,
            "expected_warnings": self.warnings,
            "dirty_rows_at": self.dirty_rows_at,
            "synthetic_column": "合成数据",
            "bytes": self.bytes,
            "sha256": self.sha256,
            "description": self.description,
            "vocabulary": self.vocabulary,
        }


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`write_demo_files` wrote: the folder, the settings and one entry per file."""

    out_dir: Path
    seed: int
    scale: float
    files: tuple[ManifestEntry, ...]
    path: Path

    @property
    def load_order(self) -> list[str]:
        return [f.path for f in self.files]

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    def entry(self, path: str) -> ManifestEntry:
        """The entry for the file called ``path`` (relative to ``out_dir``); KeyError otherwise."""
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)


def write_demo_files(
    out_dir: Path, *, scale: float = 0.05, seed: int = 1, reference_dir: Path
) -> DemoManifest:
    """Generate the demo input files into ``out_dir`` (created if missing) and write ``manifest.json``.

    ``scale`` multiplies the seed figures (1.0 = Beijing 2018: 9,911 units, 162,699
    risk sources, …); ``seed`` fixes every random draw; ``reference_dir`` is the reference
    folder (``data/reference``).  Files of an earlier run with the same names
    are overwritten; others are left alone.  Raises ValueError for scale ≤ 0 and
    FileNotFoundError when the reference files are missing.
    """
    if not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    files = generate_demo_files(read_demo_reference(reference_dir), scale=scale, rng=np.random.default_rng(seed))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = tuple(_write(out_dir, f) for f in files)
    manifest_path = out_dir / MANIFEST_NAME
    manifest = DemoManifest(out_dir=out_dir, seed=seed, scale=scale, files=entries, path=manifest_path)
    text = json.dumps(_manifest_json(manifest), ensure_ascii=False, indent=2)
    # row-number lists on one line each: the manifest stays readable at scale 1
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(re.findall(r"\d+", m[0])) + "]", text)
    manifest_path.write_text(text + "\n", encoding="utf-8")
    return manifest


def read_demo_reference(reference_dir: Path) -> DemoReference:
    """The reference geography the generator needs, from ``reference_dir``
    (``data/reference``); read once per folder and process — the vendored files are
    static, and reading them costs more than generating a small demo."""
    return _cached_reference(Path(reference_dir).resolve())


@functools.lru_cache(maxsize=2)
def _cached_reference(data_dir: Path) -> DemoReference:
    areas, lines, targets = (read_reference(kind, data_dir) for kind in ("areas", "lines", "protection_targets"))
    return build_demo_reference(areas, lines, targets)


def _manifest_json(manifest: DemoManifest) -> dict[str, Any]:
    return {
        "generator": "riskmap demo-data (geo.capabilities.demo.generators / geo.capabilities.demo.files)",
        "synthetic": True,
        "note": "合成演示数据：全部记录均为虚构，每个文件的“合成数据”列为“是”。"
        "Synthetic demo data: every record is fictional.",
        "seed": manifest.seed,
        "scale": manifest.scale,
        "scale_one_counts": SCALE_ONE_COUNTS,
        "storage_crs": "EPSG:4326",
        "dirty_outcomes": DIRTY_OUTCOMES,
        "load_order": manifest.load_order,
        "files": [f.as_json() for f in manifest.files],
    }


def _write(out_dir: Path, demo: DemoFile) -> ManifestEntry:
    path = out_dir / demo.name
    if demo.format == "csv":
        data = _csv_bytes(demo)
        header_row = 1
    elif demo.format == "xlsx":
        data = _xlsx_bytes(demo)
        header_row = 2 if demo.title else 1
    else:
        data = _geojson_bytes(demo)
        header_row = 0
    path.write_bytes(data)
    return ManifestEntry(
        kind=demo.kind,
        path=demo.name,
        format=demo.format,
        encoding=demo.encoding,
        datum=demo.datum,
        datum_column=demo.datum_column,
        header_row=header_row,
        rows=demo.rows,
        address_only_rows=demo.address_only,
        dirty_rows=dict(demo.dirty),
        expected_rejected=demo.expected_rejected,
        dirty_rows_at=demo.dirty_rows_at(),
        warnings=dict(demo.warnings),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        description=demo.description,
        vocabulary=demo.vocabulary,
    )


def _csv_bytes(demo: DemoFile) -> bytes:
    """CSV with CRLF line ends (as Excel writes them), every cell as text, in the file's encoding."""
    text = demo.frame.to_csv(index=False, lineterminator="\r\n")
    encoding = demo.encoding or "utf-8"
    return text.encode(encoding, errors="strict")


def _xlsx_bytes(demo: DemoFile) -> bytes:
    """One sheet: an optional title row, the header row, then the rows (coordinates as numbers)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "riskmap demo-data"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    sheet = workbook.create_sheet(demo.sheet or "Sheet1")
    if demo.title:
        sheet.append([demo.title])
    sheet.append(list(demo.frame.columns))
    numeric = {c for c in demo.frame.columns if c.startswith(("经度", "纬度"))}
    for record in demo.frame.itertuples(index=False):
        sheet.append(
            [
                (float(v) if v else None) if col in numeric else (v if v != "" else None)
                for col, v in zip(demo.frame.columns, record, strict=True)
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every entry dated :data:`_FIXED_TIME` (openpyxl stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now when saving
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + _FIXED_TIME.isoformat().encode() + rb"Z\g<2>",
                    data,
                )
            dst.writestr(fixed, data)
    return out.getvalue()


def _geojson_bytes(demo: DemoFile) -> bytes:
    """A FeatureCollection (RFC 7946, WGS-84), one feature per line, properties in column order."""
    frame = demo.frame
    columns = [c for c in frame.columns if c != frame.geometry.name]
    features = []
    for props, geom in zip(frame[columns].itertuples(index=False), frame.geometry, strict=True):
        feature = {
            "type": "Feature",
            "properties": dict(zip(columns, (str(v) for v in props), strict=True)),
            "geometry": json.loads(shapely.to_geojson(geom)),
        }
        features.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n"
    return text.encode("utf-8")
