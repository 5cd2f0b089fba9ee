"""Synthetic unified social credit codes (统一社会信用代码) for the demo units.

Valid GB 32100-2015 codes that were never issued to anybody on purpose: drawn at
random, checked with the standard's own check characters, distinct within one demo.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from geo.etl.values import CREDIT_CODE_ALPHABET, CREDIT_CODE_WEIGHTS

_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
#: Byte → value lookups: GB 11714 organisation codes use base-36 values, GB 32100 the
#: index in its 31-character alphabet.
_BASE36 = np.zeros(256, dtype=np.int64)
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _BASE36[ord(_c)] = _i
_CREDIT_INDEX = np.zeros(256, dtype=np.int64)
for _i, _c in enumerate(CREDIT_CODE_ALPHABET):
    _CREDIT_INDEX[ord(_c)] = _i


def _char_matrix(texts: Sequence[str], width: int) -> NDArray[np.uint8]:
    return np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), width)


def make_credit_codes(
    rng: np.random.Generator, admin_codes: Sequence[str], *, org_type: str = "91", taken: set[str] | None = None
) -> list[str]:
    """Valid, distinct GB 32100-2015 codes, vectorised.

    Each is ``org_type`` (91 enterprise, 92 individual business), the 6-digit division
    code, a GB 11714 organisation code (8 characters — 60 % of them "MA0…", as issued
    since 2015 — and its own check character), and the GB 32100 check character
    (the formula of :func:`geo.etl.values.credit_code_check_digit`).  Codes in
    ``taken`` are avoided, and ``taken`` is updated.
    """
    taken = set() if taken is None else taken
    out = [""] * len(admin_codes)
    todo = np.arange(len(admin_codes))
    alphabet = np.asarray(list(CREDIT_CODE_ALPHABET), dtype=object)
    while todo.size:
        n = todo.size
        digits = rng.integers(0, 10, (n, 8)).astype(str).astype(object)
        tail = alphabet[rng.integers(0, len(CREDIT_CODE_ALPHABET), (n, 5))]
        modern = rng.random(n) < 0.6
        bodies = ["MA0" + "".join(t) if m else "".join(d) for d, t, m in zip(digits, tail, modern, strict=True)]
        org = 11 - (_BASE36[_char_matrix(bodies, 8)] @ _ORG_WEIGHTS) % 11
        org_check = np.where(org == 10, "X", np.where(org == 11, "0", org.astype(str)))
        code17 = [f"{org_type}{admin_codes[int(i)]}{b}{c}" for i, b, c in zip(todo, bodies, org_check, strict=True)]
        total = _CREDIT_INDEX[_char_matrix(code17, 17)] @ np.asarray(CREDIT_CODE_WEIGHTS)
        checks = alphabet[(31 - total % 31) % 31]
        retry = []
        for i, c17, check in zip(todo, code17, checks, strict=True):
            code = c17 + check
            if code in taken:
                retry.append(i)
            else:
                taken.add(code)
                out[i] = code
        todo = np.asarray(retry, dtype=np.int64)
    return out
