#!/usr/bin/env bash
# Builds this example with Bazel in a scratch copy and checks what Bazel ran:
#   1. the first build runs the three kiln actions;
#   2. the second build runs none (everything is up to date);
#   3. editing lib/shapes.rhai re-runs exactly wall and floor, not moss;
#   4. after `bazel clean`, a build with --disk_cache fills the cache and the next one after
#      another clean takes all three results from it.
# Usage: examples/bazel/check.sh PATH/TO/kiln   (needs `bazel` on PATH; Debian: bazel-bootstrap)
set -euo pipefail
kiln=$(realpath "${1:?usage: check.sh PATH/TO/kiln}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
B=(bazel --output_user_root="$work/root")
cleanup() {
    (cd "$work/ws" 2>/dev/null && "${B[@]}" shutdown >/dev/null 2>&1) || true
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cp -r "$here" "$work/ws"
rm -rf "$work/ws"/bazel-*
cp "$kiln" "$work/ws/tools/kiln"
cd "$work/ws"

# --subcommands prints a "SUBCOMMAND: # //:NAME" line for each action Bazel actually runs.
build() { "${B[@]}" build --subcommands "$@" //:all 2>&1 | grep -v 'linux-sandbox.*\.cc:' > "$work/log" || { cat "$work/log"; exit 1; }; }
ran() { grep -c '^SUBCOMMAND: # //:' "$work/log" || true; }
fail() { echo "FAIL: $*"; cat "$work/log"; exit 1; }

build
[ "$(ran)" = 3 ] || fail "first build ran $(ran) kiln actions, expected 3"
for t in wall floor moss; do file "bazel-bin/$t.png" | grep -q 'PNG image data' || fail "bazel-bin/$t.png is not a PNG"; done
echo "ok 1: the first build ran the 3 kiln actions"

build
[ "$(ran)" = 0 ] || fail "second build ran $(ran) actions"
grep -q '^INFO: 1 process: 1 internal' "$work/log" || fail "second build was not fully cached"
echo "ok 2: the second build ran nothing"

echo '// an edit' >> lib/shapes.rhai
build
got=$(grep -o '^SUBCOMMAND: # //:[a-z]*' "$work/log" | sed 's/.*\/\/://' | sort | tr '\n' ' ')
[ "$got" = "floor wall " ] || fail "editing lib/shapes.rhai re-ran: $got (expected floor wall)"
echo "ok 3: editing lib/shapes.rhai re-ran exactly floor and wall"

"${B[@]}" clean >/dev/null 2>&1
build --disk_cache="$work/cache"
"${B[@]}" clean >/dev/null 2>&1
build --disk_cache="$work/cache"
grep -q '3 remote cache hit' "$work/log" || fail "the disk cache did not serve the three results"
echo "ok 4: after a clean, the disk cache served all 3 results"
