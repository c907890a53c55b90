#!/usr/bin/env bash
# normal_map at 4096² (issue 12 §2): kiln against numpy doing the same work (16-bit PGM height in,
# Scharr gradient with clamped edges, OpenGL normal, 8-bit PPM out), whole process, in one run so
# that only the ratio is quoted. Uncompressed files on both sides: PNG encoding would dominate.
#
#   bench/surface-vs-numpy.sh          builds kiln in release mode, prints both times and the ratio
#   KILN=path/to/kiln bench/surface-vs-numpy.sh   uses that binary (no build)
#   RUNS=5 bench/surface-vs-numpy.sh   best of 5 (default 3)
#
# Needs python3 with numpy. The height is a 6-octave Perlin fBm rendered by kiln once, before
# timing. The two outputs are compared at the end (they should agree to an 8-bit step).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
runs="${RUNS:-3}"
if [[ -z "${KILN:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet)
    KILN="${CARGO_TARGET_DIR:-$repo/target}/release/kiln"
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cat > "$scratch/height.rhai" <<'RHAI'
perlin(#{ scale: 8, seed: 1 }).fbm().render(4096, 4096).save("h.pgm", #{ bits: 16 });
RHAI
cat > "$scratch/normal.rhai" <<'RHAI'
load("h.pgm").normal_map(#{ strength: 8, edge: "clamp" })
RHAI
(cd "$scratch" && "$KILN" run height.rhai --out .)

best() { # command... -> best wall time in seconds over $runs runs
    local best=""
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>"$scratch/last.err"
        t1=$(date +%s.%N)
        best=$(python3 -c "a='$best'; t=$t1-$t0; print(t if not a else min(float(a), t))")
    done
    echo "$best"
}
cd "$scratch"
kiln_s=$(best "$KILN" run normal.rhai -o kiln.ppm)
numpy_s=$(best python3 "$here/surface-vs-numpy.py" h.pgm numpy.ppm 8)
numpy_compute=$(cat "$scratch/last.err")
printf 'normal_map 4096², whole process, best of %s (threads: %s)\n' "$runs" "$(nproc)"
printf '  kiln : %.3f s\n' "$kiln_s"
printf '  numpy: %.3f s   (%s)\n' "$numpy_s" "$numpy_compute"
python3 -c "print(f'  ratio kiln/numpy: {$kiln_s / $numpy_s:.2f}')"
python3 - <<'PY'
import numpy as np
def ppm(p):
    d = open(p, "rb").read()
    parts = d.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4], dtype=np.uint8, count=w * h * 3).astype(int)
a, b = ppm("kiln.ppm"), ppm("numpy.ppm")
print(f"  outputs: largest difference {np.abs(a - b).max()} of 255, mean {np.abs(a - b).mean():.4f}")
PY
