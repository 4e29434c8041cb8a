#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make install` contract: the binary; libfreqpilot.a and libfreqpilot.so (SONAME
# libfreqpilot.so.0); the headers; relocatable freqpilot.pc (shared) and freqpilot-static.pc
# with which a program calling fp_version() builds and runs; the man pages; the Python
# package (importable from the prefix); the Grafana dashboard, the constraint presets and the
# examples.
. "$(dirname "$0")/lib.sh"
P=$tmp/prefix
if ! cmake --install "$BUILD" --prefix "$P" >"$tmp/install.log" 2>&1; then
    sed 's/^/# /' "$tmp/install.log"
    nok "cmake --install"
    done_testing
fi
version=$("$FP" version | cut -d' ' -f2)
check "binary installed and runs" "$P/bin/freqpilot" --version
check "static library installed" test -f "$P/lib/libfreqpilot.a"
check "shared library installed, versioned" \
    test -f "$P/lib/libfreqpilot.so.$version" -a -L "$P/lib/libfreqpilot.so.0" -a -L "$P/lib/libfreqpilot.so"
check "SONAME libfreqpilot.so.0" \
    bash -c "objdump -p '$P/lib/libfreqpilot.so.$version' | grep -Eq 'SONAME +libfreqpilot\.so\.0$'"
check "only the fp_* API is exported" \
    bash -c "test -z \"\$(nm -D --defined-only '$P/lib/libfreqpilot.so' | awk '\$2 ~ /^[TDBR]$/ && \$3 !~ /^fp_/')\""
check "public headers installed" test -f "$P/include/freqpilot/aggregate.h" -a \
    -f "$P/include/freqpilot/version.h"

cat >"$tmp/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <freqpilot/stats.h>
#include <freqpilot/version.h>
int main(void)
{
    double x[] = {3.0, 1.0, 2.0};
    /* The library's version, from the library, matches the headers'. */
    printf("%s %s %g\n", fp_version(), FREQPILOT_VERSION, fp_stats_median(x, 3));
    return strcmp(fp_version(), FREQPILOT_VERSION) != 0;
}
C
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
# The .pc files are relocatable: they point at this prefix, not the configured one.
check "pkg-config finds the installed headers" \
    bash -c "pkg-config --cflags freqpilot | grep -q -- '-I$P/lib/pkgconfig/../../include'"
check "pkg-config --modversion" test "$(pkg-config --modversion freqpilot)" = "$version"
# A sanitizer build's library needs the sanitizer runtime in the consumer too.
extra=
grep -q '^FP_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && extra="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if cc $extra "$tmp/use.c" -o "$tmp/use-shared" $(pkg-config --cflags --libs freqpilot) \
    -Wl,-rpath,"$P/lib" 2>"$tmp/cc.log"; then
    check "linked through pkg-config freqpilot: needs libfreqpilot.so.0" \
        bash -c "objdump -p '$tmp/use-shared' | grep -Eq 'NEEDED +libfreqpilot\.so\.0$'"
    check "and runs: fp_version() from the shared library" \
        test "$("$tmp/use-shared")" = "$version $version 2"
else
    sed 's/^/# /' "$tmp/cc.log"
    nok "compile against the shared library"
fi
# shellcheck disable=SC2086
if cc $extra "$tmp/use.c" -o "$tmp/use-static" $(pkg-config --cflags --libs freqpilot-static) \
    2>"$tmp/cc.log"; then
    check "linked through pkg-config freqpilot-static: no libfreqpilot.so needed" \
        bash -c "! objdump -p '$tmp/use-static' | grep -q 'NEEDED.*libfreqpilot'"
    check "and runs" test "$("$tmp/use-static")" = "$version $version 2"
else
    sed 's/^/# /' "$tmp/cc.log"
    nok "compile against the static library"
fi

# Man pages: one per command, found by man under the prefix.
cmds=$("$FP" help | awk '/^COMMANDS$/ { on = 1; next } /^[A-Z]/ { on = 0 } on && NF { print $1 }')
missing=
for c in freqpilot $(printf 'freqpilot-%s ' $cmds); do
    [ -f "$P/share/man/man1/$c.1" ] || missing="$missing $c"
done
check "man pages installed (freqpilot, freqpilot-COMMAND)${missing:+: missing$missing}" test -z "$missing"
if command -v man >/dev/null; then
    check "man -M PREFIX/share/man freqpilot-profile" \
        test "$(man -M "$P/share/man" -w freqpilot-profile)" = "$P/share/man/man1/freqpilot-profile.1"
fi

# The Python package, importable from the prefix's site-packages folder.
init=$(find "$P/lib" -path '*-packages/freqpilot/__init__.py' | head -1)
check "Python package installed ($init)" test -n "$init"
if [ -n "$init" ] && [ -x "${FREQPILOT_PYTHON:-/usr/bin/python3}" ]; then
    py=${FREQPILOT_PYTHON:-/usr/bin/python3}
    site=$(dirname "$(dirname "$init")")
    check "it imports from there, with the tool's version" \
        test "$(cd "$tmp" && PYTHONPATH=$site "$py" -c 'import freqpilot; print(freqpilot.__version__, freqpilot.__file__)')" = "$version $init"
fi
check "Grafana dashboard installed" test -f "$P/share/freqpilot/grafana/freqpilot-dashboard.json"
check "the constraint presets installed (ai-inference-energy)" \
    cmp -s "$P/share/freqpilot/constraints/ai-inference-energy.ini" \
    "$SRC/contrib/constraints/ai-inference-energy.ini"
# The installed program finds its presets beside it; an edited copy there overrides the
# built-in one of the same name.
sed -i 's/^LLAMA = latency-sensitive$/LLAMA = 2%/' "$P/share/freqpilot/constraints/ai-inference-energy.ini"
printf 'gpu,workload,freq_mhz,time_s,energy_j\nA100,llama,1410,10,2000\nA100,llama,1410,10.1,2010\nA100,llama,1005,11,1500\nA100,llama,1005,11.1,1510\nA100,llama,810,13,1560\nA100,llama,810,13.2,1570\n' >"$tmp/l.csv"
check "--constraints ai-inference-energy reads the installed preset" \
    bash -c "'$P/bin/freqpilot' -q optimize '$tmp/l.csv' --constraints ai-inference-energy -o - | grep -q '\"max_slowdown\": 0.02'"
check "examples installed" test -f "$P/share/doc/freqpilot/examples/pytorch_inference.py" -a \
    -f "$P/share/doc/freqpilot/examples/plot_savings.py"
done_testing
