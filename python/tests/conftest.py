# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest setup: the package under test is this source tree's (not an installed copy); the
freqpilot binary is $FREQPILOT (CTest sets it) or the build tree's."""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

import freqpilot  # noqa: E402
from freqpilot import _window  # noqa: E402


@pytest.fixture(scope="session")
def fp_binary():
    b = os.environ.get("FREQPILOT") or str(REPO / "build" / "bin" / "freqpilot")
    if not os.access(b, os.X_OK):
        pytest.skip(f"the freqpilot binary {b} is not built (set FREQPILOT)")
    os.environ["FREQPILOT"] = b
    return b


@pytest.fixture(autouse=True)
def fresh_windows(monkeypatch):
    """Each test starts with no open window, no marker pipe and no warning given yet."""
    monkeypatch.delenv(_window.FIFO_ENV, raising=False)
    monkeypatch.setenv("FREQPILOT_NO_PROGRESS", "1")
    yield
    with _window._lock:
        _window._open.clear()
        if _window._fd is not None:
            os.close(_window._fd)
        _window._fd = None
        _window._fd_path = None
        _window._said.clear()


def has_pandas():
    try:
        import pandas  # noqa: F401

        return True
    except ImportError:
        return False
