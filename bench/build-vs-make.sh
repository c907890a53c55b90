#!/usr/bin/env bash
# Full build of 200 assets of 256²: `kiln build --jobs 2` against `make -j2` of 200 separate
# `kiln run` processes (issue 13's second number; goal: kiln build >= 1.5x faster).
#
#   bench/build-vs-make.sh                  builds kiln in release mode, prints a Markdown table
#   KILN=path/to/kiln bench/build-vs-make.sh   uses that binary instead (no build)
#   ASSETS=50 bench/build-vs-make.sh        fewer assets
#
# Both sides start from nothing (no cache, no outputs) and write the same 200 PNGs; the script
# checks that the outputs are byte-identical. Needs GNU make.
#
# Then issue 13's third number: peak resident memory of a full build of 20 assets of 2048² with
# --jobs 1 against --jobs 2 (GNU time's maximum RSS; skipped without /usr/bin/time, or with
# PEAK=0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
assets="${ASSETS:-200}"
if [[ -z "${KILN:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet)
    KILN="${CARGO_TARGET_DIR:-$repo/target}/release/kiln"
fi
command -v make >/dev/null || { echo "bench/build-vs-make.sh needs GNU make" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

write_project() {
    mkdir -p "$1"
    cat > "$1/tile.rhai" <<'RHAI'
let v = param("v", 0);
let n = noise_image(256, 256, #{ kind: "gaussian", sigma: 0.2 });
n.blur(1.5).brightness(0.8 + v / 1000.0)
RHAI
    {
        printf '[[asset]]\nscript = "tile.rhai"\nout = "out/tile-{v}.png"\nmatrix = { v = ['
        seq -s ', ' 0 $((assets - 1))
        printf '] }\n'
    } > "$1/kiln.toml"
    {
        printf 'KILN := %s\nall:' "$KILN"
        for i in $(seq 0 $((assets - 1))); do printf ' out/tile-%d.png' "$i"; done
        printf '\nout/tile-%%.png: tile.rhai\n\t@mkdir -p out\n\t@$(KILN) run tile.rhai --set v=$* -o $@\n'
    } > "$1/Makefile"
}

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }

write_project "$scratch/build"
write_project "$scratch/make"
t_build=$(cd "$scratch/build" && seconds "$KILN" build --jobs 2)
t_make=$(cd "$scratch/make" && seconds make -j2)
t_noop=$(cd "$scratch/build" && seconds "$KILN" build --jobs 2)
t_make_noop=$(cd "$scratch/make" && seconds make -j2)
if ! diff -rq "$scratch/build/out" "$scratch/make/out" >/dev/null; then
    echo "outputs differ between kiln build and make + kiln run" >&2
    exit 1
fi
ratio=$(echo "scale=2; $t_make / $t_build" | bc)
echo "| $assets assets of 256² | seconds |"
echo "|---|---|"
echo "| make -j2 of kiln run | $t_make |"
echo "| kiln build --jobs 2 | $t_build |"
echo "| speed-up | ${ratio}x (goal >= 1.5x) |"
echo "| no-op: make -j2 / kiln build | $t_make_noop / $t_noop |"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${PEAK:-1}" != 0 && -x /usr/bin/time ]]; then
    mkdir -p "$scratch/peak"
    cat > "$scratch/peak/big.rhai" <<'RHAI'
let v = param("v", 0);
noise_image(2048, 2048, #{ kind: "gaussian", sigma: 0.2 }).blur(2.0).brightness(0.8 + v / 100.0)
RHAI
    printf '[[asset]]\nscript = "big.rhai"\nout = "out/big-{v}.png"\nmatrix = { v = [%s] }\n' \
        "$(seq -s ', ' 0 19)" > "$scratch/peak/kiln.toml"
    echo
    echo "| 20 assets of 2048² | wall s | peak RSS MiB |"
    echo "|---|---|---|"
    for jobs in 1 2; do
        rm -rf "$scratch/peak/out" "$scratch/peak/.kiln-cache"
        stats=$(cd "$scratch/peak" && /usr/bin/time -f "%e %M" "$KILN" build --jobs "$jobs" 2>&1 >/dev/null | tail -1)
        read -r wall kb <<< "$stats"
        echo "| kiln build --jobs $jobs | $wall | $((kb / 1024)) |"
    done
fi
