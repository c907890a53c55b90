#!/usr/bin/env bash
# W0 startup floor: `kiln run` of an empty script (engine built, script compiled and run, no output).
set -e
BIN="${KILN:-$(dirname "$0")/../../target/release/kiln}"
f=/tmp/w0-kiln.rhai; [ -f "$f" ] || : > "$f"
exec "$BIN" run "$f"
