#!/usr/bin/env bash
# W4 rotate 30 deg anticlockwise (kiln rotate(-30)), bilinear, expanded canvas, black fill (kiln's inverse-mapped sampler)
# Binary: $KILN or target/release/kiln. Writes OUT (.png or .ppm, by extension).
set -e
here="$(cd "$(dirname "$0")" && pwd)"
# Inside the shared harness common.sh sets D; standalone, the default data folder.
if [ -f "$here/common.sh" ]; then source "$here/common.sh"; else D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"; fi
BIN="${KILN:-$here/../../target/release/kiln}"
in="$D/astronaut-2048.png"
exec "$BIN" run "$here/w4.rhai" --set "input=$in" --allow-read "$(dirname "$in")" -o "$1"
