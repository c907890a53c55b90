#!/usr/bin/env bash
# The one table format of the texture bench: `stats-table.sh TITLE DIR NAME...` runs
# `kiln texture-stats` on DIR/NAME.png against bench/texture/out/exemplars/NAME.png for each
# NAME and prints a markdown table (exemplar, wall and CPU seconds from DIR/NAME.time as
# /usr/bin/time -f "%e %U %S" writes it, Gram distance, seam score, copy ratio). CPU seconds are
# the fair figure on a shared machine, where wall time depends on the other load. Used by
# texture-synthesis.sh and kiln-samples.sh. Env: KILN.
set -euo pipefail
KILN=${KILN:-target/release/kiln}
title=$1; dir=$2; shift 2
EX=bench/texture/out/exemplars
echo "### $title"
echo
echo "| exemplar | wall s | CPU s | gram distance | seam score | copy ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for n in "$@"; do
    crop=64
    case $n in photo_*) crop=32 ;; esac
    secs=$(cat "$dir/$n.time" 2>/dev/null || echo "")
    json=$("$KILN" texture-stats "$EX/$n.png" "$dir/$n.png" --crop "$crop" --json)
    python3 - "$n" "$secs" "$json" <<'PY'
import json, sys
n, secs, j = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
s = j["samples"][0]
t = [float(x) for x in secs.split()] if secs else None
wall, cpu = (f"{t[0]:.1f}", f"{t[1] + t[2]:.1f}") if t else ("-", "-")
print(f"| {n} | {wall} | {cpu} | {s['gram_distance']:.3f} | {s['seam_score']:.2f} | {s['copy_ratio']:.2f} |")
PY
done
echo
echo "Gram distance: 0 = the exemplar's statistics, ~0.01-0.2 another piece of the same texture, >1 another texture."
echo "Seam score: at most 1.25 tiles. Copy ratio: ~1 new texture, near 0 copies of the exemplar."
