#!/usr/bin/env bash
# User-space instructions per request, counted by callgrind (steady on a noisy machine, where
# requests/s is not): each proxy runs under `valgrind --tool=callgrind`, gets WARM requests to
# warm up, has its counters zeroed, then serves N requests of 1 KiB at concurrency C through
# the bench's load client against the bench's upstream. Prints one line per proxy:
#
#   bench/callgrind.sh                    # gomitm and hudsucker, 2,000 requests at c=4
#   bench/callgrind.sh --rows gomitm --n 1000 --no-build
#   GOMITM_BIN=/tmp/gomitm-before bench/callgrind.sh --no-build --rows gomitm
#   bench/callgrind.sh --no-build --warm 0 --n 1 -c 1    # a fresh proxy's first request
#
# Every process it starts listens on 127.0.0.1 and is stopped by PID when it exits. The
# callgrind files stay in bench/.work/callgrind/ for `callgrind_annotate`.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/.work}
BUILD=1
ROWS="gomitm,hudsucker"
N=2000
WARM=400
C=4
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=$2; shift ;;
        --n) N=$2; shift ;;
        --warm) WARM=$2; shift ;;
        -c) C=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }

mkdir -p "$WORK/logs" "$WORK/callgrind"
. "$BENCH_DIR/lib.sh"
build_binaries
make_ca
start_upstream
gomitm_headless_flag

load() {
    "$BIN/loadgen" rps --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" -c "$C" -n "$1" -t 600 \
        > /dev/null
}

for row in ${ROWS//,/ }; do
    out=$WORK/callgrind/$row.out
    rm -f "$out"*
    vg=(valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no)
    start_row "$row" "cg-$row" "${vg[@]}"
    # --warm 0 counts a fresh proxy's first requests: its start-up work on the first
    # handshake (the TLS library's random generator, the leaf certificate) included.
    if [ "$WARM" -gt 0 ]; then load "$WARM"; fi
    callgrind_control -z "$PID" >/dev/null 2>&1
    load "$N"
    callgrind_control -d "$PID" >/dev/null 2>&1
    sleep 1
    # The dump after the zeroing is the highest-numbered part file.
    part=$(ls "$out".* 2>/dev/null | sort -t. -k3 -n | tail -1)
    total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$part" | head -1)
    [ -n "$total" ] || total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$part" | head -1)
    stop "$PID"
    awk -v r="$row" -v t="$total" -v n="$N" -v c="$C" -v p="$part" \
        'BEGIN { printf "%-10s %8.1f k instructions per request (%d requests at c=%d; %s)\n", r, t / n / 1000, n, c, p }'
done
