#!/usr/bin/env bash
# W1 noise: `kiln run` of fbm(perlin) 2048², 6 octaves, lacunarity 2, gain 0.5, 8 base cells across,
# seed 1337 (kiln's own f32 block evaluator; see src/field/noise/).
# usage: w1-kiln.sh OUT.png|OUT.pgm|-   (- = compute only: the field is rendered, nothing is saved)
# env: KILN (binary), RAYON_NUM_THREADS (kiln uses every core by default; 1 matches w1-rust-noise.sh)
set -e
BIN="${KILN:-$(dirname "$0")/../../target/release/kiln}"
f=/tmp/w1-kiln.rhai
cat > "$f" <<'RHAI'
// W1: 2048² fBm of Perlin noise, as an opaque gray image.
fbm(perlin(#{ scale: 8, seed: 1337 }), #{ octaves: 6, lacunarity: 2.0, gain: 0.5 }).render(2048, 2048)
RHAI
case "$1" in
  -) exec "$BIN" run "$f" ;;
  *) exec "$BIN" run "$f" -o "$1" ;;
esac
