#!/usr/bin/env bash
# Runs the parser fuzz target on the stable toolchain: libFuzzer (libfuzzer-sys) with the
# same SanitizerCoverage flags cargo-fuzz passes, all of them stable `-C` options.
#   fuzz/run.sh [SECONDS]      default 60; the corpus is seeded with the real transactions
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# an explicit --target keeps the flags off build scripts and proc macros (as cargo-fuzz does)
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --manifest-path "$here/Cargo.toml" --bin parse --target "$host"
corpus="$here/corpus/parse"
mkdir -p "$corpus" "$here/artifacts"
vectors="${TXPIPE_VECTORS:-$here/../../shared/vectors}/solana/sample50.jsonl"
if [ -f "$vectors" ] && [ -z "$(ls -A "$corpus")" ]; then
  python3 - "$vectors" "$corpus" <<'PY'
import base64, json, sys, hashlib, os
for line in open(sys.argv[1]):
    raw = base64.b64decode(json.loads(line)["tx_base64"])
    open(os.path.join(sys.argv[2], hashlib.sha1(raw).hexdigest()), "wb").write(raw)
PY
fi
"$here/target/$host/release/parse" "$corpus" -artifact_prefix="$here/artifacts/" \
  -max_len=1400 -max_total_time="$seconds" -print_final_stats=1
