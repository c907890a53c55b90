#!/usr/bin/env bash
# Peak resident memory (`/usr/bin/time -v`) of a few kiln runs, against the memory budget
# (issue 15 §2): a 4096² blur, twelve 16384² images refused by the budget, a 2048² material.
#
#   bench/memory.sh            builds kiln in release mode and prints a Markdown table
#   KILN=path/to/kiln bench/memory.sh   uses that binary instead (no build)
#
# Needs GNU time (`apt-get install time`). The refused run's peak is bounded by the budget
# (default: half of physical memory, at most 8 GiB); pass MAX_MEMORY=2G to see it follow the flag.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
if [[ ! -x /usr/bin/time ]]; then
    echo "bench/memory.sh needs GNU time: sudo apt-get install time" >&2
    exit 2
fi
if [[ -z "${KILN:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet)
    KILN="${CARGO_TARGET_DIR:-$repo/target}/release/kiln"
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cat > "$scratch/blur.rhai" <<'RHAI'
image(4096, 4096, "red").draw_circle(2048, 2048, 900, #{ fill: "blue" }).blur(8)
RHAI
cat > "$scratch/many.rhai" <<'RHAI'
let all = [];
for i in 0..12 { all.push(image(16384, 16384, "red")); }
all.len()
RHAI
cat > "$scratch/material.rhai" <<'RHAI'
import "std/materials" as m;
m::preview(m::marble(#{ size: 2048, seed: 7 }))
RHAI
budget=()
[[ -n "${MAX_MEMORY:-}" ]] && budget=(--max-memory "$MAX_MEMORY")

printf '| run | exit | wall (s) | peak RSS (MiB) |\n|---|---|---|---|\n'
for name in blur many material; do
    log="$scratch/$name.time"
    set +e
    (cd "$scratch" && /usr/bin/time -v -o "$log" "$KILN" run "$name.rhai" -o "$name.png" "${budget[@]}" \
        >/dev/null 2>"$scratch/$name.err")
    code=$?
    set -e
    rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }')
    printf '| %s | %s | %s | %d |\n' "$name" "$code" "$wall" $((rss_kib / 1024))
    if [[ $code -ne 0 ]]; then
        sed 's/^/    /' "$scratch/$name.err" | head -3 >&2
    fi
done
