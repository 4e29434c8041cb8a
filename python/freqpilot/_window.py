# SPDX-License-Identifier: GPL-3.0-or-later
"""Inference windows: tell ``freqpilot profile`` which stretch of a run to measure.

Under ``freqpilot profile`` the workload's environment names a FIFO in
``$FREQPILOT_MARK_FIFO``; each marker is one unbuffered ``write(2)`` of ``begin NAME`` or
``end NAME`` to it, timestamped by freqpilot when it reads it (no buffering can delay it, and
the workload's stdout is left alone).

Nesting rules:

* windows nest: a window begun inside another ends before it (last begun, first ended);
  ending any other window raises ``ValueError``;
* a name is open at most once at a time (a recursive function decorated with
  ``@window("x")`` raises ``ValueError``);
* names are 1..63 bytes of UTF-8 without whitespace;
* freqpilot measures one window per run: from the first ``begin`` to the last ``end`` of the
  run (the outermost extent), and records the first window's name in run.json
  (``window_name``). Nested windows structure the code; they are not measured separately;
* the open windows are per process (a forked child starts with its parent's), shared by its
  threads.

Outside a sweep (``$FREQPILOT_MARK_FIFO`` unset) nothing is written: the first marker warns
once (``RuntimeWarning``) and the code runs as it would without freqpilot.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
import warnings
from typing import List, Optional, Tuple

FIFO_ENV = "FREQPILOT_MARK_FIFO"
NAME_MAX_BYTES = 63

_lock = threading.RLock()
_open: List[Tuple[str, float]] = []  # (name, perf_counter at begin), innermost last
_fd: Optional[int] = None
_fd_path: Optional[str] = None
_said: set = set()


def in_sweep() -> bool:
    """True when this process runs under ``freqpilot profile`` (markers are recorded)."""
    return bool(os.environ.get(FIFO_ENV))


def _say_once(key: str, text: str) -> None:
    if key in _said:
        return
    _said.add(key)
    # Point the warning at the user's line: the first frame outside this package.
    here = os.path.dirname(os.path.abspath(__file__))
    level, f = 1, sys._getframe(0)
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == here:
        level, f = level + 1, f.f_back
    warnings.warn(text, RuntimeWarning, stacklevel=level)


def _check_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"window name must be a str, not {type(name).__name__}")
    raw = name.encode("utf-8")
    if not raw or len(raw) > NAME_MAX_BYTES or any(c.isspace() for c in name):
        raise ValueError(
            f"window name {name!r}: expected 1..{NAME_MAX_BYTES} bytes of UTF-8 without "
            "whitespace"
        )
    return name


def _marker_fd(path: str) -> Optional[int]:
    """The FIFO, opened once per path (freqpilot holds its reading end open for the run)."""
    global _fd, _fd_path
    if _fd is not None and _fd_path == path:
        return _fd
    try:
        # O_NONBLOCK: fail at once (ENXIO) instead of hanging when nobody reads the FIFO.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        reason = "nobody reads it (is freqpilot still running?)" if e.errno == errno.ENXIO else e.strerror
        _say_once(
            "open",
            f"freqpilot: cannot open the marker pipe {path} ({reason}): windows are not recorded",
        )
        return None
    os.set_blocking(fd, True)  # a marker is never dropped for a full pipe
    _fd, _fd_path = fd, path
    return fd


def _send(verb: str, name: str) -> None:
    path = os.environ.get(FIFO_ENV)
    if not path:
        _say_once(
            "outside",
            f"freqpilot: ${FIFO_ENV} is not set (not running under 'freqpilot profile'): "
            "windows are not recorded",
        )
        return
    fd = _marker_fd(path)
    if fd is None:
        return
    line = f"{verb} {name}\n".encode("utf-8")
    try:
        os.write(fd, line)  # one write per marker: < PIPE_BUF, so atomic
    except OSError as e:
        _say_once("write", f"freqpilot: writing to the marker pipe {path}: {e.strerror}")


def begin_window(name: str = "inference") -> None:
    """Begin the window ``name`` (Zeus style: ``begin_window("x") ... end_window("x")``)."""
    _check_name(name)
    with _lock:
        if any(n == name for n, _ in _open):
            raise ValueError(f"window {name!r} is already open")
        _send("begin", name)
        _open.append((name, time.perf_counter()))


def end_window(name: str = "inference") -> float:
    """End the window ``name``, the innermost open one; returns its length in seconds as this
    process saw it (freqpilot measures time and energy itself)."""
    _check_name(name)
    with _lock:
        if not _open or _open[-1][0] != name:
            if any(n == name for n, _ in _open):
                raise ValueError(
                    f"window {name!r} ends before {_open[-1][0]!r}, which began inside it: "
                    "windows nest (last begun, first ended)"
                )
            raise ValueError(f"window {name!r} is not open")
        _send("end", name)
        _, t0 = _open.pop()
        return time.perf_counter() - t0


def open_windows() -> List[str]:
    """The names of the open windows, outermost first."""
    with _lock:
        return [n for n, _ in _open]


class window(contextlib.ContextDecorator):
    """The window ``name`` as a context manager or a decorator::

        with freqpilot.window("inference"):
            outputs = model(batch)

        @freqpilot.window("generate")
        def generate(prompt): ...

    ``seconds`` holds the window's length (this process's clock) once it has ended.
    """

    def __init__(self, name: str = "inference") -> None:
        self.name = _check_name(name)
        self.seconds: Optional[float] = None

    def __enter__(self) -> "window":
        begin_window(self.name)
        return self

    def __exit__(self, *exc: object) -> bool:
        self.seconds = end_window(self.name)
        return False

    def __repr__(self) -> str:
        return f"freqpilot.window({self.name!r})"
