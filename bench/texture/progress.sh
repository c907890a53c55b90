#!/usr/bin/env bash
# Quality of a texture-model training run over time (issue 14: metrics at 2, 5, 10 and 30 minutes).
# `kiln train texture --keep-every N` keeps NAME.stepN.safetensors beside the model; this samples
# each kept snapshot at 1024², tileable, seed 1, and scores it against its exemplar with
# `kiln texture-stats` (texture distance, seam score, copy ratio). The minute column is the
# snapshot's modification time minus START (the run's start, epoch seconds: `date +%s` before
# `kiln train`, or `ps -o lstart` while it runs).
#
#     START=1765000000 KILN=target/release/kiln bench/texture/progress.sh RUN_DIR NAME EXEMPLAR [TEXTURE]
#
# TEXTURE is the exemplar's name in a several-texture model (default: the first). EXEMPLAR is a
# PNG; under 128 px a side, the copy measure compares 32² crops instead of 64².
set -euo pipefail
KILN=${KILN:-target/release/kiln}
dir=$(cd "${1:?run dir}" && pwd)
name=${2:?model name}
exemplar=$(cd "$(dirname "${3:?exemplar}")" && pwd)/$(basename "$3")
texture=${4:-}
start=${START:?START=epoch seconds of the run start}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat > "$out/sample.rhai" <<'RHAI'
let m = load_model(param("model", ""));
let t = param("texture", "");
let o = #{ width: 1024, height: 1024, seed: 1, tileable: true };
if t != "" { o.texture = t; }
m.sample(o)
RHAI
# the copy measure's crop: 64, or 32 for exemplars under 128 px (the photo crops), as stats-table.sh
crop=$(python3 -c "
import struct, sys
with open(sys.argv[1], 'rb') as f:
    w, h = struct.unpack('>II', f.read(24)[16:24])
print(64 if min(w, h) >= 128 else 32)" "$exemplar")
echo "| step | minutes | texture distance | seam | copy ratio |"
echo "|--:|--:|--:|--:|--:|"
for f in $(ls "$dir"/"$name".step*.safetensors | sort -V); do
    step=${f##*.step}; step=${step%.safetensors}
    minutes=$(awk -v a="$(stat -L -c %Y "$f")" -v b="$start" 'BEGIN { printf "%.1f", (a - b) / 60 }')
    real=$(readlink -f "$f")
    "$KILN" run "$out/sample.rhai" --allow-read "$(dirname "$real")" --set "model=$real" \
        --set "texture=$texture" -o "$out/s.png" --no-provenance >/dev/null
    stats=$("$KILN" texture-stats "$exemplar" "$out/s.png" --crop "$crop" --json)
    echo "$stats" | python3 -c "
import json, sys
d = json.load(sys.stdin)
s = d['samples'][0] if 'samples' in d else d[0]
print('| $step | $minutes | %.3f | %.2f | %.2f |' % (s['gram_distance'], s['seam_score'], s.get('copy_ratio', float('nan'))))"
done
