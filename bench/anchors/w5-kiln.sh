#!/usr/bin/env bash
# W5 adjust, kiln: brightness(1.2).contrast(1.3).saturation(0.8) with Pillow ImageEnhance semantics
# (contrast blends with the rounded mean of the L image); each op one parallel pass, contrast adds a mean pass.
# usage: w5-kiln.sh OUT   (OUT .png or .ppm; binary from $KILN, default target/release/kiln of this repo)
set -e
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"
KILN="${KILN:-$HERE/../../target/release/kiln}"
exec "$KILN" run "$HERE/w5.rhai" --allow-read "$D" --set input="$D/astronaut-4096.png" -o "$1"
