#!/usr/bin/env bash
# W3 blur, kiln: blur(8.0), a true Gaussian to ±3σ (49 taps), f32, separable, rows in parallel;
# premultiplication is skipped because the input is opaque.
# usage: w3-kiln.sh OUT   (OUT .png or .ppm; binary from $KILN, default target/release/kiln of this repo)
set -e
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"
KILN="${KILN:-$HERE/../../target/release/kiln}"
exec "$KILN" run "$HERE/w3.rhai" --allow-read "$D" --set input="$D/astronaut-4096.png" -o "$1"
