# SPDX-License-Identifier: GPL-3.0-or-later
"""freqpilot's result files as pandas DataFrames (or lists of dicts without pandas).

Column names are the data contracts of the C tool (docs/python.md lists them); the types are
fixed here so that an empty cell never turns a number column into text:

* ``float`` columns: ``float64``; an empty cell (not available) is NaN;
* ``int`` columns: pandas ``Int64`` (nullable); an empty cell is ``<NA>`` (``None`` in dicts);
* ``str`` columns: Python ``str`` (``object``); an empty cell is ``""``;
* ``bool`` columns: ``bool``.

Columns a newer freqpilot adds are kept: numbers as ``float64``, anything else as ``str``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _cli

PathLike = Union[str, "os.PathLike[str]"]

# `freqpilot aggregate --runs FILE`: one row per run loaded.
RUNS_COLUMNS: Dict[str, type] = {
    "gpu": str,
    "app": str,
    "freq_mhz": float,
    "run_index": int,
    "repetition": int,
    "time_s": float,
    "energy_j": float,
    "power_w": float,
    "reason": str,  # why aggregate dropped the run ("" = kept): failed, empty_window, ...
    "source": str,
    "sm_clock_mhz": float,
    "flags": str,
}

# aggregated.csv (docs/formats.md), then time_cv, energy_cv and gpu_name (the board's full
# name, "" when the input does not say).
AGGREGATED_COLUMNS: Dict[str, type] = {
    "gpu": str,
    "app": str,
    "freq_mhz": float,
    "runs": int,
    "runs_dropped": int,
    "time_s": float,
    "time_s_lo": float,
    "time_s_hi": float,
    "energy_j": float,
    "energy_j_lo": float,
    "energy_j_hi": float,
    "power_w": float,
    "edp": float,
    "ed2p": float,
    "sm_clock_mhz": float,
    "gpu_util_pct": float,
    "sm_active": float,
    "dram_active": float,
    "tensor_active": float,
    "fp_active": float,
    "temp_c": float,
    "flags": str,
    "time_cv": float,
    "energy_cv": float,
    "gpu_name": str,
}

# `freqpilot optimize` results (optimal.json's "results", or --format csv).
RECOMMENDATION_COLUMNS: Dict[str, type] = {
    "gpu": str,
    "app": str,
    "objective": str,
    "max_slowdown": float,  # NaN = no budget
    "freq_mhz": float,
    "baseline_mhz": float,
    "time_s": float,
    "energy_j": float,
    "power_w": float,
    "energy_saving": float,  # fraction of the baseline's energy saved (0.12 = 12 %)
    "energy_saving_lo": float,
    "energy_saving_hi": float,
    "slowdown": float,  # fraction (0.05 = 5 % slower than the baseline)
    "slowdown_lo": float,
    "slowdown_hi": float,
    "feasible": bool,
    "flags": str,
    "category": str,
    "objective_value": float,
    "message": str,
    "slowdown_bound": float,  # one-sided bound of the slowdown that the budget is checked on
    "verdict": str,  # deployable | no significant saving | suspect: not a DVFS effect | ...
    "verdict_reason": str,
}


def _pandas():
    try:
        import pandas  # noqa: F401

        return pandas
    except ImportError:
        return None


def _convert(value: Any, kind: type) -> Any:
    """One cell (CSV text or JSON value) to its column's type."""
    if kind is str:
        return "" if value is None else str(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None if kind is int else math.nan
    if kind is int:
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return int(number)
    return float(value)


def _guess(values: Sequence[Any]) -> type:
    """The type of a column this version does not know: float when every cell is one."""
    for v in values:
        if v is None or v == "":
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return str
    return float


def _table(rows: List[Dict[str, Any]], header: List[str], schema: Dict[str, type],
           where: str, frame: Optional[bool]):
    kinds = {c: schema.get(c) or _guess([r.get(c) for r in rows]) for c in header}
    out = []
    for i, row in enumerate(rows):
        rec = {}
        for c in header:
            try:
                rec[c] = _convert(row.get(c), kinds[c])
            except ValueError as e:
                raise ValueError(f"{where}: row {i + 1}, column {c}: {e}") from None
        out.append(rec)
    pd = _pandas() if frame is not False else None
    if frame and pd is None:
        raise ImportError("frame=True needs pandas (pip install pandas, or apt install python3-pandas)")
    if pd is None:
        return out
    df = pd.DataFrame.from_records(out, columns=header)
    dtypes = {float: "float64", int: "Int64", bool: "bool", str: "object"}
    return df.astype({c: dtypes[kinds[c]] for c in header})


def _read_csv(path: Path, schema: Dict[str, type], frame: Optional[bool]):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    if not header:
        raise ValueError(f"{path}: empty file (expected a CSV header)")
    missing = [c for c in ("gpu", "app", "freq_mhz") if c not in header]
    if missing:
        raise ValueError(f"{path}:1: missing column(s) {', '.join(missing)}")
    return _table(rows, header, schema, str(path), frame)


def _in_folder(path: PathLike, name: str) -> Path:
    p = Path(path)
    return p / name if p.is_dir() else p


def read_aggregated(path: PathLike, *, frame: Optional[bool] = None):
    """aggregated.csv (``freqpilot aggregate``; or the folder of ``freqpilot run`` holding it):
    one row per (gpu, app, clock), columns ``AGGREGATED_COLUMNS``.

    ``frame``: None = a DataFrame when pandas is installed, else a list of dicts; True / False
    force one or the other."""
    return _read_csv(_in_folder(path, "aggregated.csv"), AGGREGATED_COLUMNS, frame)


def read_recommendations(path: PathLike, *, frame: Optional[bool] = None):
    """``freqpilot optimize``'s choices: optimal.json (or its ``--format csv``; or the folder of
    ``freqpilot run``), one row per (gpu, app, objective, budget), columns
    ``RECOMMENDATION_COLUMNS``; ``baseline`` (the JSON's top-level key) is added to each row."""
    p = _in_folder(path, "optimal.json")
    if p.suffix.lower() == ".csv":
        return _read_csv(p, RECOMMENDATION_COLUMNS, frame)
    with open(p, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}:{e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ValueError(f"{p}: expected optimize's JSON ({{\"baseline\": ..., \"results\": [...]}})")
    rows = []
    for r in doc["results"]:
        row = dict(r)
        row.setdefault("baseline", doc.get("baseline"))
        rows.append(row)
    header = list(RECOMMENDATION_COLUMNS)
    for row in rows:
        header += [k for k in row if k not in header]
    return _table(rows, header, dict(RECOMMENDATION_COLUMNS, baseline=str), str(p), frame)


def read_runs(path: PathLike, *, frame: Optional[bool] = None, binary: Optional[str] = None):
    """One row per run, columns ``RUNS_COLUMNS``, with ``reason`` saying why ``freqpilot
    aggregate`` drops a run ("" = kept: failed and empty windows are dropped, and cold starts
    and outliers by its rules).

    ``path``: a file written by ``freqpilot aggregate --runs``, read as is; anything else
    ``freqpilot aggregate`` reads (a DATASET folder from ``freqpilot profile``, a per-run table
    such as runs.csv or measured_runs.csv) goes through ``freqpilot aggregate --runs``, so the
    per-run time and energy are the tool's own."""
    p = Path(path)
    if p.is_file():
        with open(p, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        if header[: len(RUNS_COLUMNS)] == list(RUNS_COLUMNS):
            return _read_csv(p, RUNS_COLUMNS, frame)
    with tempfile.TemporaryDirectory(prefix="freqpilot-") as tmp:
        out = Path(tmp) / "runs.csv"
        _cli.call(["aggregate", "-q", str(p), "--runs", str(out), "-o", os.devnull], binary=binary)
        return _read_csv(out, RUNS_COLUMNS, frame)
