"""GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): header + ISO WKB.

Written by the embedded store inside its own SQLite transactions, read back by
GDAL/pyogrio and QGIS.  The SQL functions registered by :func:`register_functions`
are the ones GDAL's R-tree triggers call, so the spatial index stays current.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable

import numpy as np
import shapely

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_LITTLE_ENDIAN = 0x01
_ENVELOPE_XY = 0x02  # envelope indicator 1 (minx, maxx, miny, maxy) << 1
_EMPTY = 0x10


def encode(geoms: np.ndarray, srs_id: int = 4326) -> list[bytes]:
    """Shapely geometries -> GeoPackage blobs (points without envelope, others with XY)."""
    wkb = shapely.to_wkb(geoms, byte_order=1, output_dimension=2, flavor="iso")
    bounds = shapely.bounds(geoms)
    is_point = shapely.get_type_id(geoms) == 0
    empty = shapely.is_empty(geoms)
    blobs = []
    for body, b, point, is_empty in zip(wkb, bounds, is_point, empty, strict=True):
        if point or is_empty:
            flags = _LITTLE_ENDIAN | (_EMPTY if is_empty else 0)
            header = b"GP\x00" + bytes([flags]) + struct.pack("<i", srs_id)
        else:
            header = b"GP\x00" + bytes([_LITTLE_ENDIAN | _ENVELOPE_XY]) + struct.pack(
                "<i4d", srs_id, b[0], b[2], b[1], b[3]
            )
        blobs.append(header + body)
    return blobs


def _header(blob: bytes) -> tuple[int, int]:
    """(flags, offset of the WKB body)."""
    flags = blob[3]
    indicator = (flags >> 1) & 0x07
    return flags, 8 + 8 * _ENVELOPE_DOUBLES.get(indicator, 0)


def decode(blob: bytes) -> shapely.Geometry:
    """One GeoPackage blob -> shapely geometry."""
    _, offset = _header(blob)
    return shapely.from_wkb(blob[offset:])


def _bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None:
        return None
    flags, offset = _header(blob)
    if flags & _EMPTY:
        return None
    if (flags >> 1) & 0x07:
        fmt = "<4d" if flags & _LITTLE_ENDIAN else ">4d"
        minx, maxx, miny, maxy = struct.unpack(fmt, blob[8:40])
        return minx, miny, maxx, maxy
    body = blob[offset:]
    endian = "<" if body[0] == 1 else ">"
    if len(body) == 21 and struct.unpack(endian + "I", body[1:5])[0] == 1:  # a 2-D point: read x, y directly
        x, y = struct.unpack(endian + "2d", body[5:21])
        return x, y, x, y
    b = shapely.bounds(shapely.from_wkb(body))
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def register_functions(con: sqlite3.Connection) -> None:
    """Register ST_IsEmpty / ST_MinX / ST_MaxX / ST_MinY / ST_MaxY for GDAL's triggers."""
    def is_empty(blob: bytes | None) -> int | None:
        return None if blob is None else int(_bounds(blob) is None)

    def component(i: int) -> Callable[[bytes | None], float | None]:
        def fn(blob: bytes | None) -> float | None:
            b = _bounds(blob)
            return None if b is None else b[i]
        return fn

    con.create_function("ST_IsEmpty", 1, is_empty, deterministic=True)
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, component(i), deterministic=True)
