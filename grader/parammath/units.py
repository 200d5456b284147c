"""Which megabytes an answer counts in, decided from all its amounts: 1024-based (MiB, or 'MB'
with 1024 stated or evident from figures that only fit as MiB: '12,613,600 B ≈ 12.03 MB') or
decimal ('9 MB + 3.6 MB', '50 × 10.52 MB = 526 MB'). A figure is then read in that unit, so a
value that equals an accepted one only in the other unit is not taken for it by chance."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from grader.textnumbers import BYTE_UNITS, UNIT_TWIN, Quantity

if TYPE_CHECKING:
    from grader.parammath.picks import Reading

#: 1024 said in words or formulas: "1 MB = 1024*1024 bytes", "/ 2^20", "1,048,576", "MiB".
BINARY_STATED = re.compile(r"\b1024\b|\b2\s*(?:\^|\*\*)\s*20\b|2²⁰|\b1[,.]?048[,.]?576\b|\b[KMG]iB\b")
_DECIMAL_UNITS = ("kB", "MB", "GB")


def _sizes(ref: dict[str, Any]) -> list[float]:
    """Sizes of the network a working may write: per layer, the maps, the input, the parameters,
    two layers at once, the batch's maps and inputs, and the accepted totals."""
    n = ref["batch_size"]
    out = [layer["bytes"] for layer in ref["layers"]]
    out += [ref["maps_bytes"], ref["input_bytes"], ref["param_bytes"], ref["peak_pair_bytes"],
            n * ref["maps_bytes"], n * ref["input_bytes"]]
    out += list(ref["ram_prediction"].values()) + list(ref["ram_batch"].values())
    return [s for s in out if s]


def answer_units(reading: Reading, ref: dict[str, Any], skip: Quantity | None = None) -> str | None:
    """'binary', 'decimal' or None (no sign either way, or both) for the answer's megabytes,
    from every amount but `skip` that equals one of the network's sizes in one unit only."""
    if BINARY_STATED.search(reading.text):
        return "binary"
    sizes = _sizes(ref)
    decimal = binary = 0
    for q in reading.quantities:
        if q is skip or q.unit not in _DECIMAL_UNITS or q.number <= 0 or q.precision > 0.005 * q.value:
            continue  # "12 MB" fits 12.6 MB and 12.03 MiB alike: too round to tell the unit
        as_dec = q.number * BYTE_UNITS[q.unit]
        as_bin = q.number * BYTE_UNITS[UNIT_TWIN[q.unit]]
        dec = any(abs(as_dec - s) <= 0.005 * s for s in sizes)
        bin_ = any(abs(as_bin - s) <= 0.005 * s for s in sizes)
        decimal += dec and not bin_
        binary += bin_ and not dec
    if binary and not decimal:
        return "binary"
    if decimal and not binary:
        return "decimal"
    return None


def binary_reading(q: Quantity) -> float:
    """The bytes `q` stands for read in 1024-based units (a MiB figure as written)."""
    if q.unit in _DECIMAL_UNITS:
        return q.number * BYTE_UNITS[UNIT_TWIN[q.unit]]
    return q.value
