#!/usr/bin/env bash
# W6 composite, kiln: overlay-2048-rgba (RGBA, top) over background-2048 (RGB) -> OUT (.ppm = RGB, .png = RGBA8).
# Contract: ../shared/bench/README.md (`wN-TOOL.sh OUT`). Binary: $KILN, else target/release/kiln of this repo.
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
D="${BENCH_DATA:-${KILN_BENCH_DIR:-/tmp/kiln-bench}/data}"
KILN="${KILN:-$HERE/../../target/release/kiln}"
exec "$KILN" run "$HERE/w6.rhai" --allow-read "$D" --set "data=$D" -o "$1"
