# SPDX-License-Identifier: GPL-3.0-or-later
"""Thin, typed wrappers over the ``freqpilot`` command (a subprocess each; no shell).

The binary: the ``binary`` argument, else ``$FREQPILOT``, else ``freqpilot`` on ``PATH``.
A non-zero exit raises ``FreqpilotError`` with the tool's own message and exit code
(1 failure, 2 usage error).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence, Union

PathLike = Union[str, "os.PathLike[str]"]


class FreqpilotError(RuntimeError):
    """A ``freqpilot`` command failed.

    ``message``: the tool's error (its ``error: ...`` lines, else the end of its stderr);
    ``returncode``: its exit status (1 failure, 2 usage error, 127 not found);
    ``command``: the argument list; ``stderr``: everything it printed there."""

    def __init__(self, message: str, returncode: int, command: Sequence[str], stderr: str = ""):
        super().__init__(f"{message} (exit status {returncode}: {' '.join(command)})")
        self.message = message
        self.returncode = returncode
        self.command = list(command)
        self.stderr = stderr


def find_binary(binary: Optional[PathLike] = None) -> str:
    """The freqpilot executable that the wrappers run."""
    found = os.fspath(binary) if binary else os.environ.get("FREQPILOT") or shutil.which("freqpilot")
    if not found:
        raise FreqpilotError(
            "the freqpilot command was not found: install it (make install) or set $FREQPILOT",
            127,
            ["freqpilot"],
        )
    return found


def _message(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    errors = [l[len("error: "):] if l.startswith("error: ") else l for l in lines if l.startswith("error")]
    if errors:
        return "\n".join(errors)
    return "\n".join(lines[-5:]) or "no message"


def call(args: Sequence[str], *, binary: Optional[PathLike] = None,
         env: Optional[Mapping[str, str]] = None, cwd: Optional[PathLike] = None) -> subprocess.CompletedProcess:
    """Runs ``freqpilot ARGS...``; returns the completed process (stdout and stderr as text)
    or raises ``FreqpilotError``."""
    cmd = [find_binary(binary), *[os.fspath(a) for a in args]]
    full_env = None if env is None else {**os.environ, **env}
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           env=full_env, cwd=cwd)
    except OSError as e:
        raise FreqpilotError(f"cannot run {cmd[0]}: {e.strerror}", 127, cmd) from None
    if p.returncode != 0:
        raise FreqpilotError(_message(p.stderr), p.returncode, cmd, p.stderr)
    return p


def _opt(args: List[str], name: str, value: object) -> None:
    if value is None or value is False:
        return
    if value is True:
        args.append(name)
    elif isinstance(value, (list, tuple)):
        args += [name, ",".join(str(v) for v in value)]
    else:
        args += [name, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]


@dataclass
class ProfileResult:
    """What ``profile()`` did: the dataset folder and the tool's messages."""

    dataset: Path
    stderr: str

    def runs(self, *, frame: Optional[bool] = None):
        """The dataset's runs (``read_runs``)."""
        from ._data import read_runs

        return read_runs(self.dataset, frame=frame)


def profile(
    command: Optional[Sequence[PathLike]] = None,
    *,
    out: PathLike = "dataset",
    clocks: Union[str, Sequence[int], None] = None,
    runs: Optional[int] = None,
    warmup: Optional[int] = None,
    interval_ms: Optional[int] = None,
    app: Optional[str] = None,
    gpu: Union[str, int, None] = None,
    backend: Optional[str] = None,
    workload: Optional[str] = None,
    order: Optional[str] = None,
    seed: Optional[int] = None,
    cooldown_s: Optional[float] = None,
    run_timeout_s: Optional[float] = None,
    on_failure: Optional[str] = None,
    no_clock_control: bool = False,
    force: bool = False,
    extra_args: Iterable[str] = (),
    binary: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> ProfileResult:
    """``freqpilot profile [OPTIONS] -- COMMAND...``: runs ``command`` (an argument list, no
    shell) once per clock and repetition and writes the dataset ``out``.

    Each keyword is the option of the same name (``freqpilot help profile``); ``clocks`` is
    ``"all"``, ``"MIN:MAX[:STEP]"`` or a list of MHz. Without ``app`` the dataset is named after
    the command, for ``python3 infer.py`` after the script (``infer``). With
    ``backend="sim"`` and ``workload`` and no command, the simulated GPU runs a built-in
    workload in simulated time."""
    args: List[str] = ["profile"]
    _opt(args, "--out", out)
    _opt(args, "--clocks", clocks)
    _opt(args, "--runs", runs)
    _opt(args, "--warmup", warmup)
    _opt(args, "--interval-ms", interval_ms)
    _opt(args, "--app", app)
    _opt(args, "--gpu", gpu)
    _opt(args, "--backend", backend)
    _opt(args, "--workload", workload)
    _opt(args, "--order", order)
    _opt(args, "--seed", seed)
    _opt(args, "--cooldown", cooldown_s)
    _opt(args, "--run-timeout", run_timeout_s)
    _opt(args, "--on-failure", on_failure)
    _opt(args, "--no-clock-control", no_clock_control)
    _opt(args, "--force", force)
    args += list(extra_args)
    if command:
        args += ["--", *[os.fspath(c) for c in command]]
    p = call(args, binary=binary, env=env)
    return ProfileResult(Path(out), p.stderr)


@dataclass
class RunResult:
    """The files ``run()`` wrote (those the pipeline could not make are absent on disk)."""

    out: Path
    stderr: str

    @property
    def aggregated(self) -> Path:
        return self.out / "aggregated.csv"

    @property
    def recommendations(self) -> Path:
        return self.out / "optimal.json"

    @property
    def report_html(self) -> Path:
        return self.out / "report.html"

    @property
    def report_pdf(self) -> Path:
        return self.out / "report.pdf"


def run(
    inputs: Sequence[PathLike] = (),
    *,
    out: PathLike = "out/run",
    config: Optional[PathLike] = None,
    title: Optional[str] = None,
    runs: Optional[int] = None,
    jobs: Optional[int] = None,
    extra_args: Iterable[str] = (),
    binary: Optional[PathLike] = None,
    env: Optional[Mapping[str, str]] = None,
) -> RunResult:
    """``freqpilot run [INPUT...] -o OUT``: aggregate, optimize, validate, model, figures and
    the report in one command (a simulated sweep without inputs). Read the results with
    ``read_aggregated(result.out)`` and ``read_recommendations(result.out)``."""
    args: List[str] = ["run", *[os.fspath(i) for i in inputs]]
    _opt(args, "-o", out)
    _opt(args, "--config", config)
    _opt(args, "--title", title)
    _opt(args, "--runs", runs)
    _opt(args, "--jobs", jobs)
    args += list(extra_args)
    p = call(args, binary=binary, env=env)
    return RunResult(Path(out), p.stderr)
