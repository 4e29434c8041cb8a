#!/bin/sh
# Install the Debian 12 packages freqpilot needs to build, test, fuzz and render reports
# (slurm-wlm 22.05 + munge: the single-node Slurm of tests/e2e/t0900-slurm.sh, started only by
# scripts/slurm-test-cluster.sh; the packages' own services are not needed; python3-*: the
# Python package's tests, its offline `pip install` into a venv and the examples; man-db: the
# man page test).
# Idempotent: only missing packages are installed; nothing is ever removed.
# Usage: scripts/install-deps.sh [--check]   (--check: list what is missing, install nothing)
set -eu

PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
libcmocka-dev libgsl-dev libjansson-dev libcairo2-dev libinih-dev libmicrohttpd-dev
fonts-dejavu-core poppler-utils chromium curl man-db jq
python3 python3-venv python3-pip python3-pytest python3-pandas python3-matplotlib
slurm-wlm munge"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: need root to install:$missing" >&2
        exit 1
    fi
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
