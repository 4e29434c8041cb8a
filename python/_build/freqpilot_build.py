# SPDX-License-Identifier: GPL-3.0-or-later
"""The freqpilot package's own PEP 517 / PEP 660 build backend, standard library only.

``pip install ./python`` works without a network: pip needs no build requirement from an index
(``requires = []`` in pyproject.toml) because this file, in the source tree, builds the wheel:
the pure-Python ``freqpilot/`` folder plus the ``.dist-info`` metadata (METADATA, WHEEL,
RECORD with sha256 digests). ``pip install -e ./python`` gets a wheel holding a ``.pth`` file
that points at this folder.

The metadata lives here (there is no [project] table to parse: Python < 3.11 has no TOML
reader); the version is read from freqpilot/__init__.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "freqpilot"
SUMMARY = "Energy-efficient GPU clocks for AI inference: windows, results as DataFrames, the CLI"
REQUIRES_PYTHON = ">=3.8"
LICENSE = "GPL-3.0-or-later"
EXTRAS = {"pandas": ["pandas"]}
TAG = "py3-none-any"
# Reproducible archives: SOURCE_DATE_EPOCH when set, else 1980-01-01 (the zip format's first day).
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))


def _version() -> str:
    text = (ROOT / NAME / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if not m:
        raise RuntimeError(f"{ROOT / NAME / '__init__.py'}: no __version__ line")
    return m.group(1)


def _dist_info() -> str:
    return f"{NAME}-{_version()}.dist-info"


def _metadata() -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {_version()}",
        f"Summary: {SUMMARY}",
        f"License: {LICENSE}",
        f"Requires-Python: {REQUIRES_PYTHON}",
    ]
    for extra, reqs in EXTRAS.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs]
    readme = ROOT / "README.md"
    if readme.exists():
        lines.append("Description-Content-Type: text/markdown")
        return "\n".join(lines) + "\n\n" + readme.read_text(encoding="utf-8")
    return "\n".join(lines) + "\n"


def _wheel_file() -> str:
    return (
        "Wheel-Version: 1.0\n"
        "Generator: freqpilot_build\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {TAG}\n"
    )


def _sources():
    """(archive name, path) of the package's files, sorted."""
    for p in sorted((ROOT / NAME).rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed"):
            yield p.relative_to(ROOT).as_posix(), p


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _write_wheel(wheel_directory: str, files) -> str:
    """files: (archive name, bytes) in order; the dist-info and RECORD are added."""
    info = _dist_info()
    files = list(files) + [
        (f"{info}/METADATA", _metadata().encode()),
        (f"{info}/WHEEL", _wheel_file().encode()),
        (f"{info}/top_level.txt", f"{NAME}\n".encode()),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in files)
    record += f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    filename = f"{NAME}-{_version()}-{TAG}.whl"
    stamp = time.gmtime(max(EPOCH, 315532800))[:6]
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return filename


def _write_metadata_dir(metadata_directory: str) -> str:
    d = Path(metadata_directory) / _dist_info()
    d.mkdir(parents=True, exist_ok=True)
    (d / "METADATA").write_text(_metadata(), encoding="utf-8")
    (d / "WHEEL").write_text(_wheel_file(), encoding="utf-8")
    (d / "top_level.txt").write_text(f"{NAME}\n", encoding="utf-8")
    return d.name


# ---- PEP 517 ----

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, ((name, p.read_bytes()) for name, p in _sources()))


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{_version()}"
    filename = f"{base}.tar.gz"
    members = [("pyproject.toml", ROOT / "pyproject.toml"), ("README.md", ROOT / "README.md"),
               ("_build/freqpilot_build.py", Path(__file__).resolve())]
    members += list(_sources())
    pkg_info = _metadata().encode()
    with tarfile.open(Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as t:
        for name, data in [("PKG-INFO", pkg_info)] + [(n, p.read_bytes()) for n, p in members if p.exists()]:
            ti = tarfile.TarInfo(f"{base}/{name}")
            ti.size = len(data)
            ti.mtime = EPOCH
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return filename


# ---- PEP 660 (pip install -e) ----

def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = (str(ROOT) + "\n").encode()
    return _write_wheel(wheel_directory, [(f"__editable__.{NAME}.pth", pth)])
