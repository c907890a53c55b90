#!/usr/bin/env bash
# W2 resize 4096->1024 Lanczos3 (fast_image_resize, f32 RGBA, Pillow-compatible kernel widening)
# Binary: $KILN or target/release/kiln. Writes OUT (.png or .ppm, by extension).
set -e
here="$(cd "$(dirname "$0")" && pwd)"
# Inside the shared harness common.sh sets D; standalone, the default data folder.
if [ -f "$here/common.sh" ]; then source "$here/common.sh"; else D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"; fi
BIN="${KILN:-$here/../../target/release/kiln}"
in="$D/astronaut-4096.png"
exec "$BIN" run "$here/w2.rhai" --set "input=$in" --allow-read "$(dirname "$in")" -o "$1"
