#!/usr/bin/env bash
# `make install` contract: binary, static library, headers and a relocatable freqpilot.pc
# that lets a program built against the installed tree link and run.
set -u
build=$(cd "$(dirname "$FREQPILOT")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {
    local what=$1
    shift
    if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
if ! cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "not ok - cmake --install"
    exit 1
fi
check "binary installed and runs" "$tmp/prefix/bin/freqpilot" --version
check "library installed" test -f "$tmp/prefix/lib/libfreqpilot.a"
check "public headers installed" test -f "$tmp/prefix/include/freqpilot/aggregate.h" -a \
    -f "$tmp/prefix/include/freqpilot/version.h"
cat >"$tmp/use.c" <<'C'
#include <stdio.h>
#include <freqpilot/stats.h>
#include <freqpilot/version.h>
int main(void)
{
    double x[] = {3.0, 1.0, 2.0};
    printf("%s %g\n", FREQPILOT_VERSION, fp_stats_median(x, 3));
    return 0;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
# The .pc file is relocatable: it must point at this prefix, not the configured one.
check "pkg-config finds the installed headers" \
    bash -c "pkg-config --cflags freqpilot | grep -q -- '-I$tmp/prefix/lib/pkgconfig/../../include'"
# A sanitizer build's library needs the sanitizer runtime in the consumer too.
extra=
grep -q '^FP_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && extra="-fsanitize=address,undefined"
if cc $extra "$tmp/use.c" -o "$tmp/use" $(pkg-config --cflags --libs freqpilot) 2>"$tmp/cc.log"; then
    out=$("$tmp/use")
    check "a program linked through pkg-config runs" test "${out#* }" = "2"
else
    cat "$tmp/cc.log"
    echo "not ok - compile against the installed tree"
    fails=$((fails + 1))
fi
exit $((fails > 0))
