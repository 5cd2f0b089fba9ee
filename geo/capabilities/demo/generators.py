"""Synthetic demo input files, in the shape a Beijing bureau hands them over.

Pure generation: :func:`generate_demo_files` takes the reference geography (real
district/township polygons, the 5th Ring zone, province borders and OpenStreetMap
protection-target points, all WGS-84 EPSG:4326) and a numpy ``Generator`` and
returns one :class:`DemoFile` per input file — a table with the Chinese headers,
the Chinese cell values, the coordinate datum and the encoding a bureau export
would have, plus the count of dirty rows planted in it.  Writing the files is
:mod:`geo.capabilities.demo.files`' job.

The work is split by job: :mod:`~geo.capabilities.demo.calibration` (how many of
each, scale 1.0 = the 2018 seed figures), :mod:`~geo.capabilities.demo.geography`
(the reference drawn on), :mod:`~geo.capabilities.demo.enterprises` (units and risk
sources), :mod:`~geo.capabilities.demo.hazchem` (hazardous-chemical sites, gas
stations, fireworks), :mod:`~geo.capabilities.demo.hazards` (hidden hazards),
:mod:`~geo.capabilities.demo.resources`, :mod:`~geo.capabilities.demo.lines`,
:mod:`~geo.capabilities.demo.layouts` (each file's headers, datum and dirty-row
rates) and :mod:`~geo.capabilities.demo.dirty` (the planted problems).

Every record is fictional and says so: a column 合成数据 = 是 in every file.  Unit
names are drawn from a small word list and may coincide with a real company by
chance; credit codes are valid GB 32100-2015 codes that were never issued to
anybody on purpose.  Points are real places (near OSM land-use and residential
points) jittered by tens to hundreds of metres.

Determinism: the same reference frames, ``scale`` and generator seed give the same
tables, value for value (every draw happens in a fixed order — the order below; no
set or dict iteration depends on hashing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.capabilities.demo import layouts
from geo.capabilities.demo.enterprises import draw_graded_risk_sources, draw_jjj_units, draw_units
from geo.capabilities.demo.file_tables import DemoFile, FileLayout, bureau_file
from geo.capabilities.demo.geography import DemoReference
from geo.capabilities.demo.hazards import draw_hidden_hazards
from geo.capabilities.demo.hazchem import draw_fireworks, draw_gas_stations, draw_hazchem_sites
from geo.capabilities.demo.lines import draw_lines
from geo.capabilities.demo.resources import draw_depots, draw_experts, draw_shelters, draw_social, draw_teams
from geo.capabilities.demo.world import DemoWorld


def generate_demo_files(reference: DemoReference, *, scale: float, rng: np.random.Generator) -> list[DemoFile]:
    """Every demo input file, in load order (units before what refers to them).

    ``scale`` multiplies the :data:`~geo.capabilities.demo.calibration.SCALE_ONE_COUNTS`;
    ``rng`` drives every draw, so a seeded generator gives the same files.  Raises
    ValueError for scale ≤ 0.
    """
    world = DemoWorld(reference, scale, rng)
    counts = world.counts
    units = draw_units(world)
    jjj_units = draw_jjj_units(world)

    # Each file's table is drawn just before its file is made from it: the order of draws.
    steps: list[tuple[FileLayout, Callable[[], pd.DataFrame]]] = [
        (layouts.UNITS, lambda: units),
        (
            layouts.RISK_SOURCES,
            lambda: draw_graded_risk_sources(world, units, counts["risk_sources"], world.district_polygons),
        ),
        (layouts.HAZCHEM_SITES, lambda: draw_hazchem_sites(world, units, "WHP")),
        (layouts.GAS_STATIONS, lambda: draw_gas_stations(world, units)),
        (layouts.FIREWORKS, lambda: draw_fireworks(world)),
        (layouts.HIDDEN_HAZARDS, lambda: draw_hidden_hazards(world, units)),
        (layouts.TEAMS, lambda: draw_teams(world, units)),
        (layouts.EXPERTS, lambda: draw_experts(world, units)),
        (layouts.DEPOTS, lambda: draw_depots(world)),
        (layouts.SHELTERS, lambda: draw_shelters(world)),
        (layouts.SOCIAL, lambda: draw_social(world)),
        (layouts.JJJ_UNITS, lambda: jjj_units),
        (
            layouts.JJJ_RISK_SOURCES,  # its layout has no township column
            lambda: draw_graded_risk_sources(world, jjj_units, counts["jjj_risk_sources"], world.county_polygons),
        ),
        (layouts.JJJ_HAZCHEM_SITES, lambda: draw_hazchem_sites(world, jjj_units, "JJJWHP")),
    ]
    beijing_districts = list(world.district_names.values())
    files = [bureau_file(rng, layout, draw(), district_names=beijing_districts) for layout, draw in steps]
    files.append(
        DemoFile(
            name=layouts.LINES_NAME,
            kind="lines",
            format="geojson",
            encoding="utf-8",
            datum="wgs84",
            frame=draw_lines(world),
            description=layouts.LINES_DESCRIPTION,
            vocabulary={"类型": layouts.LINE_TYPE_VOCABULARY},
        )
    )
    return files
