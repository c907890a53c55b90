#!/usr/bin/env bash
# Times kiln beside ImageMagick, libvips, Pillow, G'MIC and the raw Rust crates on the fixed
# workloads of ../shared/bench (W0-W7), in the same run, as whole processes.
#
#   bench/run-peers.sh [REGEX]     e.g. bench/run-peers.sh 'w2-' ; default: every workload
#
# It copies ../shared/bench to a scratch folder, adds kiln's anchors (bench/anchors/w*-kiln.*),
# builds kiln in release mode and runs the shared run-anchors.sh there. Results: $KILN_BENCH_DIR
# (default /tmp/kiln-bench)/results/summary.md. Install the peers first with
# ../shared/bench/install-anchors.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${KILN_SHARED:-$repo/../shared}"
scratch="${KILN_BENCH_DIR:-/tmp/kiln-bench}/harness"
(cd "$repo" && cargo build --release --quiet)
rm -rf "$scratch"; mkdir -p "$scratch"
cp -r "$shared/bench/." "$scratch/"
chmod -R u+w "$scratch"
cp "$here"/anchors/* "$scratch/anchors/"
export KILN="$repo/target/release/kiln"
export TESTDATA="$shared/testdata"
cd "$scratch" && ./run-anchors.sh "${1:-.}"
