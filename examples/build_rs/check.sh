#!/usr/bin/env bash
# Builds this example crate in a scratch copy and checks that its build script re-runs exactly
# when an input kiln reported changes:
#   1. the first build runs the build script (bakes the textures) and the game prints them;
#   2. the second build re-runs nothing (cargo -v says "Fresh");
#   3. editing a script, the module two scripts import, or the image one loads re-runs it;
#   4. touching a file no script read (README.md, a stray file in textures/) does not.
# Usage: examples/build_rs/check.sh   (set CARGO_TARGET_DIR to share an already-built kiln)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here" "$work/game"
rm -rf "$work/game/target"
sed -i "s|path = \"../..\"|path = \"$repo\"|" "$work/game/Cargo.toml"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$work/target}
cd "$work/game"

build() { cargo build -v 2>&1 | tee "$work/log" > /dev/null || { tail -40 "$work/log"; exit 1; }; }
# The build script's own run: `Running `.../build/kiln-build-rs-example-HASH/build-script-build``.
baked() { grep -q 'Running `[^`]*kiln-build-rs-example-[0-9a-f]*/build-script-build' "$work/log"; }
fail() { echo "FAIL: $*"; tail -40 "$work/log"; exit 1; }
# Cargo compares an input's mtime with the build script's last run: make the edit strictly newer,
# waiting for the clock where the filesystem keeps coarse times.
edit() {
    local before
    before=$(date +%s.%N)
    sleep 0.01
    printf '%s' "$2" >> "$1"
    touch -d "@$(date +%s.%N)" "$1"
    [ "$(stat -c %Y "$1")" -ge "${before%.*}" ] || fail "clock"
}

start=$(date +%s)
build
baked || fail "the first build did not run the build script"
"$CARGO_TARGET_DIR/debug/kiln-build-rs-example" | tee "$work/game.txt"
[ "$(grep -c 'x.* PNG, ' "$work/game.txt")" = 3 ] || fail "the game did not embed 3 PNG textures"
echo "ok 1: the first build baked the textures ($(( $(date +%s) - start )) s)"

build
baked && fail "the second build re-ran the build script"
grep -q 'Fresh kiln-build-rs-example' "$work/log" || fail "the second build was not fresh"
echo "ok 2: the second build re-ran nothing (Fresh)"

for f in textures/wall.rhai textures/lib/common.rhai; do
    edit "$f" $'\n// an edit\n'
    build
    baked || fail "editing $f did not re-run the build script"
    echo "ok 3: editing $f re-ran the build script"
done
cp textures/rust_mask.png "$work/mask.png"
python3 - "$work/mask.png" textures/rust_mask.png <<'PY' 2>/dev/null || cp "$repo/examples/bazel/textures/stone.png" textures/rust_mask.png
import sys
from PIL import Image, ImageOps
ImageOps.invert(Image.open(sys.argv[1]).convert("RGB")).save(sys.argv[2])
PY
touch textures/rust_mask.png
build
baked || fail "changing textures/rust_mask.png did not re-run the build script"
echo "ok 3: changing textures/rust_mask.png re-ran the build script"

edit README.md $'\nan edit\n'
edit textures/notes.txt 'not an input'
build
baked && fail "touching files no script read re-ran the build script"
echo "ok 4: editing README.md and adding textures/notes.txt re-ran nothing"
echo "check.sh: all passed in $(( $(date +%s) - start )) s"
