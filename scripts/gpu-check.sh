#!/usr/bin/env bash
# The GPU check: what this machine's GPU does for txpipe, from a prebuilt binary (no build
# step, no Rust needed here).
#
#   scripts/gpu-check.sh BINARY [--quick] [other `txpipe gpu-check` options]
#
# Runs `BINARY gpu-check` (adapter and limits; signature verification on the GPU and the
# CPU at 16k, 128k and 1M valid signatures of 200-byte messages, or 1k and 4k with
# --quick; cold and warm start-up; SHA-256 and proof-of-history rates; `bench --backend gpu
# --json` on 1M transactions, 10k with --quick; GPU/CPU agreement on the shipped vectors
# under both signature rules). Progress goes to stderr; the LAST line of stdout is one JSON
# object. Without a GPU adapter it fails (non-zero) unless --allow-cpu-only is given.
#
# The pipeline cache and the bench's workloads go to fresh temporary directories (so the
# first start-up is a cold one) unless TXPIPE_CACHE_DIR is set. On a machine without a
# registered Vulkan driver, the NVIDIA ICD under /usr/local/nvidia is used; Vulkan loader
# packages (*.deb) in a .gl directory next to the binary or in the working directory are
# unpacked first (see README, "Checking a real GPU").
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    echo "usage: $0 BINARY [--quick] [--vectors DIR] [--allow-cpu-only] [--bench-txs N]" >&2
    exit 2
fi
BIN="$1"
shift
if [ ! -x "$BIN" ]; then
    echo "gpu-check.sh: $BIN is not an executable file" >&2
    exit 2
fi

log() { echo "gpu-check.sh: $*" >&2; }

# Vulkan loader packages carried along (apt-get download ... on a machine with network)
for dir in "$(dirname "$BIN")/.gl" ./.gl; do
    for deb in "$dir"/*.deb; do
        [ -e "$deb" ] || continue
        if command -v dpkg >/dev/null 2>&1; then
            log "unpacking $deb"
            dpkg -x "$deb" / 2>/dev/null || log "cannot unpack $deb (not root?)"
        fi
    done
done
command -v ldconfig >/dev/null 2>&1 && { ldconfig 2>/dev/null || true; }

# a driver: the registered ICDs, else NVIDIA's under /usr/local/nvidia
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then
    registered=no
    for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
        if ls "$d"/*.json >/dev/null 2>&1; then registered=yes; fi
    done
    nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1 \
        && [ -f "$nvidia_icd" ]; then
        export VK_DRIVER_FILES="$nvidia_icd"
        log "using the NVIDIA ICD $nvidia_icd"
    elif [ "$registered" = no ]; then
        log "no Vulkan driver registered (the check will say whether an adapter is found)"
    fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$tmp/run}"
mkdir -p "$XDG_RUNTIME_DIR" 2>/dev/null || true
chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
export TXPIPE_CACHE_DIR="${TXPIPE_CACHE_DIR:-$tmp/cache}"
mkdir -p "$TXPIPE_CACHE_DIR"

if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >&2 || true
fi

log "running $BIN gpu-check $*"
start=$(date +%s)
out="$tmp/gpu-check.json"
"$BIN" gpu-check "$@" >"$out"
log "done in $(( $(date +%s) - start )) s"
last="$(grep -v '^[[:space:]]*$' "$out" | tail -n 1)"
if [ -z "$last" ]; then
    log "the check printed nothing"
    exit 1
fi
printf '%s\n' "$last"
