#!/usr/bin/env bash
# W7 decode+encode: kiln run of a script whose result is the loaded image.   usage: OUT [IN]
# Binary: $KILN or target/release/kiln. Writes OUT (.png or .ppm, by extension).
set -e
here="$(cd "$(dirname "$0")" && pwd)"
# Inside the shared harness common.sh sets D; standalone, the default data folder.
if [ -f "$here/common.sh" ]; then source "$here/common.sh"; else D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"; fi
BIN="${KILN:-$here/../../target/release/kiln}"
in="${2:-$D/astronaut-4096.png}"
exec "$BIN" run "$here/w7.rhai" --set "input=$in" --allow-read "$(dirname "$in")" -o "$1"
