# SPDX-License-Identifier: GPL-3.0-or-later
"""freqpilot.window / begin_window / end_window: what reaches the marker FIFO, and when."""

import os
import time
import warnings

import pytest

import freqpilot
from freqpilot import _window


@pytest.fixture
def fifo(tmp_path, monkeypatch):
    """A marker FIFO read the way freqpilot reads it (non-blocking reader held open)."""
    path = tmp_path / "mark.fifo"
    os.mkfifo(path)
    rd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    monkeypatch.setenv("FREQPILOT_MARK_FIFO", str(path))

    def read():
        try:
            return os.read(rd, 65536)
        except BlockingIOError:
            return b""

    yield read
    os.close(rd)


def test_markers_reach_the_pipe_one_write_each(fifo):
    freqpilot.begin_window("infer")
    assert fifo() == b"begin infer\n"  # written at once, nothing buffered
    freqpilot.begin_window("step")
    assert fifo() == b"begin step\n"
    assert freqpilot.open_windows() == ["infer", "step"]
    assert freqpilot.end_window("step") >= 0
    assert fifo() == b"end step\n"
    freqpilot.end_window("infer")
    assert fifo() == b"end infer\n"
    assert freqpilot.open_windows() == []
    assert freqpilot.in_sweep()


def test_context_manager_and_seconds(fifo):
    with freqpilot.window("inference") as w:
        assert fifo() == b"begin inference\n"
        time.sleep(0.05)
    assert fifo() == b"end inference\n"
    assert 0.05 <= w.seconds < 1.0


def test_decorator_passes_results_and_exceptions(fifo):
    @freqpilot.window("generate")
    def generate(x):
        if x < 0:
            raise KeyError(x)
        return 2 * x

    assert generate(21) == 42
    assert fifo() == b"begin generate\nend generate\n"
    with pytest.raises(KeyError):
        generate(-1)
    assert fifo() == b"begin generate\nend generate\n"  # the window ends anyway
    assert freqpilot.open_windows() == []


def test_default_name(fifo):
    with freqpilot.window():
        pass
    assert fifo() == b"begin inference\nend inference\n"


def test_nesting_rules(fifo):
    freqpilot.begin_window("a")
    with pytest.raises(ValueError, match="already open"):
        freqpilot.begin_window("a")
    freqpilot.begin_window("b")
    with pytest.raises(ValueError, match="windows nest"):
        freqpilot.end_window("a")
    with pytest.raises(ValueError, match="is not open"):
        freqpilot.end_window("c")
    freqpilot.end_window("b")
    freqpilot.end_window("a")
    # Only the valid markers were written.
    assert fifo() == b"begin a\nbegin b\nend b\nend a\n"

    @freqpilot.window("rec")
    def rec(n):
        return rec(n - 1) if n else 0

    with pytest.raises(ValueError, match="already open"):
        rec(1)


@pytest.mark.parametrize("bad", ["", "two words", "tab\there", "x" * 64, "é" * 32, "a\nb"])
def test_bad_names(bad):
    with pytest.raises(ValueError, match="without whitespace"):
        freqpilot.window(bad)
    with pytest.raises(ValueError):
        freqpilot.begin_window(bad)


def test_name_type():
    with pytest.raises(TypeError):
        freqpilot.begin_window(3)


def test_outside_a_sweep_does_nothing_and_says_so_once():
    assert not freqpilot.in_sweep()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with freqpilot.window("x"):
                pass
        freqpilot.begin_window("y")
        freqpilot.end_window("y")
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 1, msgs
    assert "not running under 'freqpilot profile'" in msgs[0]
    assert caught[0].category is RuntimeWarning


def test_pipe_without_reader_warns_once(tmp_path, monkeypatch):
    path = tmp_path / "orphan.fifo"
    os.mkfifo(path)
    monkeypatch.setenv("FREQPILOT_MARK_FIFO", str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.monotonic()
        with freqpilot.window("x"):
            pass
        with freqpilot.window("x"):
            pass
        assert time.monotonic() - t0 < 1.0  # never blocks on a pipe nobody reads
    assert len(caught) == 1
    assert "nobody reads it" in str(caught[0].message)


def test_forked_child_writes_its_own_markers(fifo):
    freqpilot.begin_window("parent")
    pid = os.fork()
    if pid == 0:  # the child inherits the open window and the pipe
        try:
            with freqpilot.window("child"):
                pass
            os._exit(0 if freqpilot.open_windows() == ["parent"] else 3)
        finally:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    freqpilot.end_window("parent")
    assert fifo() == b"begin parent\nbegin child\nend child\nend parent\n"
    assert _window.NAME_MAX_BYTES == 63
