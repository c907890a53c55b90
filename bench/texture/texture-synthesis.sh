#!/usr/bin/env bash
# Anchor bench (issue 14 §4): Embark's texture-synthesis (example-based, non-parametric) on the
# 15 exemplars of exemplars.rhai, one 1024² tileable output each, timed as a whole process (wall
# and CPU seconds, /usr/bin/time), then `kiln texture-stats` on every output. Writes
# bench/texture/out/texture-synthesis.md.
#
#     KILN=target/release/kiln bench/texture/texture-synthesis.sh [NAME...]
#
# NAME picks exemplars (default: all 15). Installs texture-synthesis-cli 0.8.3 into bench/.tools
# with `cargo install --locked` when missing (the crate's own lock file: without it a newer
# `console` breaks its `indicatif`). Env: KILN (default target/release/kiln), SEED (default 1),
# THREADS (texture-synthesis worker threads, default all cores; its output is only fully
# deterministic at 1), NICE (default 0; e.g. 19 on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
KILN=${KILN:-target/release/kiln}
SEED=${SEED:-1}
NICE=${NICE:-0}
TOOLS=bench/.tools
TS=$TOOLS/bin/texture-synthesis
OUT=bench/texture/out
EX=$OUT/exemplars
RES=$OUT/texture-synthesis
mkdir -p "$EX" "$RES"

if [ ! -x "$TS" ]; then
    cargo install --locked texture-synthesis-cli --version 0.8.3 --root "$TOOLS"
fi
if [ ! -f "$EX/granite.png" ]; then
    "$KILN" run bench/texture/exemplars.rhai --allow-read tests/data --out "$EX" --no-provenance
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(bricks wood marble clouds granite rust lava sand grass stone_tiles water_caustics terrain
           photo_fur photo_wood photo_foliage)
fi
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

for n in "${names[@]}"; do
    /usr/bin/time -f "%e %U %S" -o "$RES/$n.time" nice -n "$NICE" "$TS" --seed "$SEED" --tiling --out-size 1024 --no-progress "${threads[@]}" \
        --out "$RES/$n.png" generate "$EX/$n.png"
    echo "$n: $(awk '{ printf "%.1f s wall, %.1f s CPU", $1, $2 + $3 }' "$RES/$n.time")" >&2
done

# The table: one texture-stats run per exemplar (the photo crops are small, so they use 32²
# crops for the copy ratio; the materials 64²).
bench/texture/stats-table.sh "texture-synthesis $("$TS" --version | awk '{print $2}'), 1024² tileable, seed $SEED" \
    "$RES" "${names[@]}" > "$OUT/texture-synthesis.md"
cat "$OUT/texture-synthesis.md"
