#!/usr/bin/env bash
# Trains one texture model per exemplar of the anchor bench for a fixed wall time and scores
# every kept snapshot (issue 14: quality at 2, 5, 10 and 30 minutes of training, per exemplar).
#
#     KILN=target/release/kiln MINUTES=10 JOBS=2 LONG="bricks marble" bench/texture/train-all.sh OUT [NAME...]
#
# LONG names train LONG_MINUTES (default 30) instead of MINUTES; list them first so the short
# runs fill the other slot meanwhile.
#
# Runs JOBS trainings at once, each on one thread (`--threads 1`): on this 2-core machine two
# single-threaded runs each get more steps in ten minutes than one run on both cores gets in
# five, so the per-run figures are those of a machine shared with one other training, not of a
# solo run. Each run keeps a snapshot every KEEP steps (default 100); progress.sh then samples
# each at 1024², tileable, seed 1, and scores it. Output: OUT/NAME/ (model, snapshots, log),
# OUT/NAME.md (the table) and OUT/all.md (every table). The flags are RECIPE (default: none, the
# trainer's defaults), the crop flags, and `--periodic 2` for the regular textures (bricks,
# stone_tiles, wood, photo_wood) or `--periodic 0` for the rest: periodic channels put bands in
# textures that have no period. The crop flags are STRUCTURED (default `--patch 128 --batch 2`,
# the README's recipe) for the exemplars with structure over 50 px (bricks, stone_tiles, wood)
# and PATCH (default `--patch 64`) for the rest; photo_wood is a 150-px crop. FINE (default
# `--detail-noise`) is added for the speckled stone (granite), whose grain is finer than the
# generator's 8-pixel noise cells. LARGE (default `--patch 256 --batch 1 --coarse 8
# --critic-scales 3`) replaces the crop flags for the exemplars whose layout is larger than what
# one output pixel sees and than a 64 crop (marble veins, clouds, terrain): the crops must hold
# the layout for a critic to judge it, and three critic scales keep fine detail judged and
# training stable at that patch. SMOOTH (default `--bilinear-upsample --detail-noise`) is added
# for terrain, where it removed the 8-pixel grid of that recipe and halved the texture distance
# at ten minutes (0.136 against 0.250); clouds were worse with it (0.32 against 0.09) and
# marble alike (0.000 against 0.001, with grain in the white). Stone tiles take LARGE's patch and
# critics without the coarse noise, with SMOOTH: square tiles on a straight grid, where every
# recipe before drew slabs, flagstones or a basket weave.
set -euo pipefail
cd "$(dirname "$0")/../.."
KILN=$(realpath "${KILN:-target/release/kiln}")
MINUTES=${MINUTES:-10}
# names trained for LONG_MINUTES instead (the 30-minute column)
LONG=${LONG:-}
LONG_MINUTES=${LONG_MINUTES:-30}
JOBS=${JOBS:-2}
KEEP=${KEEP:-100}
RECIPE=${RECIPE:-}
PATCH=${PATCH:---patch 64}
STRUCTURED=${STRUCTURED:---patch 128 --batch 2}
FINE=${FINE:---detail-noise}
LARGE=${LARGE:---patch 256 --batch 1 --coarse 8 --critic-scales 3}
SMOOTH=${SMOOTH:---bilinear-upsample --detail-noise}
out=${1:?usage: train-all.sh OUT [NAME...]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
EX=bench/texture/out/exemplars
if [ ! -f "$EX/granite.png" ]; then
    mkdir -p "$EX"
    "$KILN" run bench/texture/exemplars.rhai --allow-read tests/data --out "$EX" --no-provenance
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(bricks wood marble clouds granite rust lava sand grass stone_tiles water_caustics terrain
           photo_fur photo_wood photo_foliage)
fi

# the crop flags of exemplar $1 (with FINE for granite; LARGE for marble, clouds, terrain, and
# SMOOTH for terrain and stone tiles)
crops_for() {
    case $1 in
        bricks | wood) echo "$STRUCTURED" ;;
        stone_tiles) echo "--patch 256 --batch 1 --critic-scales 3 $SMOOTH" ;;
        granite) echo "$PATCH $FINE" ;;
        marble | clouds) echo "$LARGE" ;;
        terrain) echo "$LARGE $SMOOTH" ;;
        *) echo "$PATCH" ;;
    esac
}

train_one() {
    local n=$1 periodic=0 minutes=$MINUTES crops
    crops=$(crops_for "$n")
    case " $LONG " in *" $n "*) minutes=$LONG_MINUTES ;; esac
    case $n in bricks | stone_tiles | wood | photo_wood) periodic=2 ;; esac
    mkdir -p "$out/$n"
    date +%s > "$out/$n/start"
    # shellcheck disable=SC2086 # RECIPE and the crop flags are lists of flags
    nice "$KILN" train texture --data "$EX/$n.png" --out "$out/$n/$n.safetensors" $RECIPE $crops \
        --periodic "$periodic" --minutes "$minutes" --steps 1000000 --keep-every "$KEEP" \
        --threads 1 --log-every 500 > "$out/$n/train.log" 2>&1
    START=$(cat "$out/$n/start") KILN=$KILN bench/texture/progress.sh "$out/$n" "$n" "$EX/$n.png" \
        > "$out/$n.md"
}

running=0
for n in "${names[@]}"; do
    train_one "$n" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
for n in "${names[@]}"; do
    minutes=$MINUTES
    case " $LONG " in *" $n "*) minutes=$LONG_MINUTES ;; esac
    echo "### $n ($RECIPE $(crops_for "$n"), $minutes min, $JOBS runs at once)"
    echo
    cat "$out/$n.md"
    echo
done > "$out/all.md"
echo "wrote $out/all.md"
