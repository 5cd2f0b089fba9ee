"""What the YAML configurations (``data/config/area_risk.yaml``) are checked with:
a frozen pydantic base that rejects unknown keys, number types that refuse booleans and
strings, and the one-line problem list made of a ``ValidationError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: A finite number written as a number (an int or a float; not a bool, not a string).
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A finite number > 0.
PositiveNumber = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
#: A finite number ≥ 0.
NonNegativeNumber = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]


class ConfigModel(BaseModel):
    """A section of a configuration file: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def config_problems(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """One line per problem, naming the key (dotted, after ``prefix``) and the bad value:
    ``units.h3_res: 12 — H3 resolution 12 outside 6–9``, ``density.mode: 'fancy' — input
    should be 'thresholds' or 'quantiles'``, ``heatmap.cell_m: missing``."""
    out: list[str] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))]
        where = prefix + ".".join(loc) if loc else prefix.rstrip(".") or "top level"
        msg = err["msg"].removeprefix("Value error, ")
        if msg[1:2].islower():  # "Input should …" → "input should …"; "H3 resolution …" stays
            msg = msg[:1].lower() + msg[1:]
        value = err.get("input")
        if err["type"] == "missing":
            out.append(f"{where}: missing")
        elif err["type"] == "extra_forbidden":
            out.append(f"{where}: unknown key")
        elif isinstance(value, Mapping | list | tuple):
            out.append(f"{where}: {msg}")
        else:
            out.append(f"{where}: {value!r} — {msg}")
    return out
