"""`riskmap geocode`: Chinese addresses -> points (WGS-84) with precision, as JSON.

    riskmap geocode "北京市朝阳区望京街道阜通东大街6号" "三河市燕郊镇"
    riskmap geocode --file units.csv --column 地址

Offline by default, from the vendored reference geography (or the configured store's
areas, places and roads with ``--from-store``).  An online provider is used only when
``RISKMAP_GEOCODER_PROVIDER`` and ``RISKMAP_GEOCODER_KEY`` are set (see
geo/files/online_geocoder.py).  Output: a JSON list, one object per address, in order.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from geo.errors import BadInput

#: Encodings tried, in order, for --file (bureau exports are often GBK).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_address_column(path: Path, column: str) -> list[str]:
    """The ``column`` cells of a CSV file (UTF-8, UTF-8 with BOM or GBK/GB18030).

    Raises FileNotFoundError, or ValueError naming the column and the headers found.
    """
    raw = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise BadInput(f"{path}: not UTF-8 or GBK text")
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip() for h in reader.fieldnames or []]
    if column not in headers:
        raise BadInput(f"{path}: no column {column!r}; headers: {', '.join(headers) or '(none)'}")
    reader.fieldnames = headers
    return [(row.get(column) or "").strip() for row in reader]


@click.command("geocode")
@click.argument("addresses", nargs=-1)
@click.option("--file", "csv_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV file of addresses (UTF-8 or GBK).")
@click.option("--column", default="地址", show_default=True, help="Address column of --file.")
@click.option("--from-store", is_flag=True,
              help="Build the gazetteer from the configured store (loaded areas, places, roads) "
                   "instead of the vendored reference files.")
@click.option("--indent", type=int, default=2, show_default=True, help="JSON indent (0: one line).")
def geocode(addresses: tuple[str, ...], csv_file: Path | None, column: str, from_store: bool, indent: int) -> None:
    """Geocode Chinese addresses offline (地址 -> 经纬度, WGS-84) and print JSON.

    Each result has lon/lat (WGS-84), precision (poi / road / township / district /
    city / province / none), confidence 0-1, the province/city/county/township codes
    and the official names matched.  A district-precision point is the district's
    representative point and says so.
    """
    from geo.capabilities.geocoding import load_geocoder
    from geo.files.online_geocoder import OnlineGeocoderSettings, make_online_provider
    from webmap.cli.main import _context, _settings, user_errors

    settings = _settings()
    queries = list(addresses)
    with user_errors():
        if csv_file is not None:
            queries.extend(read_address_column(csv_file, column))
        if not queries:
            raise BadInput("give at least one address, or --file CSV")
        online = make_online_provider(OnlineGeocoderSettings())
        store = _context(settings).store if from_store else None
        geocoder = load_geocoder(settings.paths.reference_dir, store=store, online=online)
        results = geocoder.geocode_many(queries)
    click.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=indent or None))


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [geocode]
