#!/usr/bin/env bash
# Kiln's side of the texture bench (issue 14 §4): samples a trained texture model at 1024²,
# tileable, timed as a whole process (wall and CPU seconds, /usr/bin/time), and scores it with
# the same table as the anchor (stats-table.sh). One model per exemplar, named
# MODELS/NAME.safetensors.
#
#     KILN=target/release/kiln bench/texture/kiln-samples.sh MODELS [NAME...]
#
# Env: KILN (default target/release/kiln), SEED (default 1). Exemplars come from exemplars.rhai
# (made here if missing); outputs go to bench/texture/out/kiln/, the table to
# bench/texture/out/kiln.md. Names without a model file are skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/../.."
KILN=${KILN:-target/release/kiln}
SEED=${SEED:-1}
models=${1:?usage: kiln-samples.sh MODELS_DIR [NAME...]}
shift
# Absolute: a script resolves relative paths against its own folder, not the current one.
models=$(cd "$models" && pwd)
OUT=bench/texture/out
EX=$OUT/exemplars
RES=$OUT/kiln
mkdir -p "$EX" "$RES"
if [ ! -f "$EX/granite.png" ]; then
    "$KILN" run bench/texture/exemplars.rhai --allow-read tests/data --out "$EX" --no-provenance
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(bricks wood marble clouds granite rust lava sand grass stone_tiles water_caustics terrain
           photo_fur photo_wood photo_foliage)
fi

sampler=$RES/sample.rhai
cat > "$sampler" <<'RHAI'
// One 1024² tileable sample of a texture model (kind "texture_gan").
let model = param("model", "");
let seed = param("sample_seed", 1);
load_model(model).sample(#{ width: 1024, height: 1024, seed: seed, tileable: true })
RHAI

done_names=()
for n in "${names[@]}"; do
    m=$models/$n.safetensors
    if [ ! -f "$m" ]; then
        echo "$n: no model $m, skipped" >&2
        continue
    fi
    /usr/bin/time -f "%e %U %S" -o "$RES/$n.time" "$KILN" run "$sampler" --allow-read "$models" \
        --set "model=$m" --set "sample_seed=$SEED" -o "$RES/$n.png" --no-provenance
    echo "$n: $(awk '{ printf "%.1f s wall, %.1f s CPU", $1, $2 + $3 }' "$RES/$n.time")" >&2
    done_names+=("$n")
done
[ ${#done_names[@]} -eq 0 ] && { echo "no models found in $models" >&2; exit 1; }
bench/texture/stats-table.sh "kiln texture models ($models), 1024² tileable, seed $SEED, whole process" \
    "$RES" "${done_names[@]}" > "$OUT/kiln.md"
cat "$OUT/kiln.md"
