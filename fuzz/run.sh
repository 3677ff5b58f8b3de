#!/usr/bin/env bash
# Runs fuzz targets on the stable toolchain: libFuzzer (libfuzzer-sys) with the same
# SanitizerCoverage flags cargo-fuzz passes, all of them stable `-C` options.
#   fuzz/run.sh [SECONDS] [TARGET...]
# SECONDS (default 60) per target; no TARGET runs every target in turn:
#   parse         the wire-format parser (parse, re-encode)
#   agave_parity  txpipe's parser against Agave's (agave-transaction-view 6.1)
#   sig_line      the verify-sigs line decoder
#   replay_line   the replay/verify-txs line decoder, then the parser
#   poh_chain     the proof-of-history chain-file reader, then verification
#   exec          sequential = parallel = windowed execution of a decoded block
#   sig_rules     both signature rules' fast CPU paths against their single definitions
# Corpora live in fuzz/corpus/TARGET (the parser targets are seeded with the real
# transactions); crashes in fuzz/artifacts/TARGET/. Each run prints libFuzzer's final
# stats (stat::number_of_executed_units, stat::average_exec_per_sec).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
shift || true
all=(parse agave_parity sig_line replay_line poh_chain exec sig_rules)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# an explicit --target keeps the flags off build scripts and proc macros (as cargo-fuzz does)
host="$(rustc -vV | sed -n 's/^host: //p')"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
cargo build --release --manifest-path "$here/Cargo.toml" "${bins[@]}" --target "$host"
vectors="${TXPIPE_VECTORS:-$here/../../shared/vectors}/solana/sample50.jsonl"
for t in "${targets[@]}"; do
  corpus="$here/corpus/$t"
  mkdir -p "$corpus" "$here/artifacts/$t"
  if [ -f "$vectors" ] && [ -z "$(ls -A "$corpus")" ]; then
    case "$t" in
      parse|agave_parity|replay_line) seed=1 ;;
      *) seed=0 ;;
    esac
    if [ "$seed" = 1 ]; then
      python3 - "$vectors" "$corpus" "$t" <<'PY'
import base64, json, sys, hashlib, os
for line in open(sys.argv[1]):
    b64 = json.loads(line)["tx_base64"]
    raw = b64.encode() + b"\n" if sys.argv[3] == "replay_line" else base64.b64decode(b64)
    open(os.path.join(sys.argv[2], hashlib.sha1(raw).hexdigest()), "wb").write(raw)
PY
    fi
  fi
  echo "=== fuzz $t for ${seconds}s"
  "$here/target/$host/release/$t" "$corpus" -artifact_prefix="$here/artifacts/$t/" \
    -max_len=4096 -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::|==|SUMMARY|Done|INFO: -max_total_time|#[0-9]+ *DONE)|panicked|ERROR' || true
  # a crash leaves an artifact: fail the run
  if [ -n "$(ls -A "$here/artifacts/$t")" ]; then
    echo "fuzz $t: crash artifacts in $here/artifacts/$t" >&2
    exit 1
  fi
done
