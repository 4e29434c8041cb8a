# SPDX-License-Identifier: GPL-3.0-or-later
"""freqpilot from Python.

Mark the inference in a workload that ``freqpilot profile`` runs::

    import freqpilot
    with freqpilot.window("inference"):
        outputs = model(batch)

read the results as pandas DataFrames (lists of dicts without pandas)::

    runs = freqpilot.read_runs("dataset")
    recs = freqpilot.read_recommendations("out/run")

and drive the command-line tool (``freqpilot.profile(...)``, ``freqpilot.run(...)``). The core
needs only the standard library; pandas is optional. Reference: docs/python.md.
"""

from ._cli import FreqpilotError, ProfileResult, RunResult, call, find_binary, profile, run
from ._data import (
    AGGREGATED_COLUMNS,
    RECOMMENDATION_COLUMNS,
    RUNS_COLUMNS,
    read_aggregated,
    read_recommendations,
    read_runs,
)
from ._window import FIFO_ENV, begin_window, end_window, in_sweep, open_windows, window

__version__ = "0.1.0"

__all__ = [
    "AGGREGATED_COLUMNS",
    "FIFO_ENV",
    "FreqpilotError",
    "ProfileResult",
    "RECOMMENDATION_COLUMNS",
    "RUNS_COLUMNS",
    "RunResult",
    "begin_window",
    "call",
    "end_window",
    "find_binary",
    "in_sweep",
    "open_windows",
    "profile",
    "read_aggregated",
    "read_recommendations",
    "read_runs",
    "run",
    "window",
]
