#!/usr/bin/env bash
# What the CPU clock sees per request beyond the instructions callgrind counts: each proxy
# gets WARM requests, then `perf stat` (software events: this VM has no hardware counters)
# counts its CPU time, context switches, page faults and futex/mprotect calls while it serves
# N requests of 1 KiB at concurrency C. Rows are interleaved and the whole is repeated ROUNDS
# times, because one round on a noisy machine says little. One line per proxy and round:
#
#   bench/perfstat.sh                            # gomitm and hudsucker, 5 rounds, c=16
#   bench/perfstat.sh --no-build --rounds 3 -c 1 --n 20000
#   GOMITM_BIN=/tmp/gomitm-before bench/perfstat.sh --no-build --rows gomitm,hudsucker
#   bench/perfstat.sh --no-build --env MALLOC_ARENA_MAX=1    # the proxy's environment
#
# Every process it starts listens on 127.0.0.1 and is stopped by PID when it exits.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/.work}
BUILD=1
ROWS="gomitm,hudsucker"
N=40000
WARM=4000
C=16
ROUNDS=5
PROXY_ENV=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=$2; shift ;;
        --n) N=$2; shift ;;
        --warm) WARM=$2; shift ;;
        -c) C=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --env) PROXY_ENV+=("$2"); shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "perfstat.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v perf >/dev/null || { echo "perfstat.sh: needs perf (Debian: linux-perf)" >&2; exit 1; }

mkdir -p "$WORK/logs"
. "$BENCH_DIR/lib.sh"
build_binaries
make_ca
start_upstream
gomitm_headless_flag

EVENTS=task-clock,context-switches,page-faults,syscalls:sys_enter_futex,syscalls:sys_enter_mprotect
for round in $(seq 1 "$ROUNDS"); do
    for row in ${ROWS//,/ }; do
        start_row "$row" "ps-$row" env "${PROXY_ENV[@]}"
        "$BIN/loadgen" rps --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" -c "$C" -n "$WARM" \
            -t 60 > /dev/null
        stat=$WORK/perfstat-$row.txt
        perf stat -e "$EVENTS" -p "$PID" -o "$stat" &
        PERF=$!
        sleep 0.3
        "$BIN/loadgen" rps --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" -c "$C" -n "$N" \
            -t 120 > /dev/null
        kill -INT "$PERF"
        wait "$PERF" 2>/dev/null || true
        stop "$PID"
        awk -v r="$row" -v n="$N" -v round="$round" -v c="$C" '
            function num(s) { gsub(",", "", s); return s + 0 }
            /task-clock/ { cpu = num($1) * 1000 / n }
            /context-switches/ { cs = num($1) / n }
            /page-faults/ { pf = num($1) / n }
            /sys_enter_futex/ { fx = num($1) / n }
            /sys_enter_mprotect/ { mp = num($1) / n }
            END { printf "round %d %-10s c=%d  CPU %6.1f us/req  ctx %.4f  faults %.3f  futex %.3f  mprotect %.3f\n", round, r, c, cpu, cs, pf, fx, mp }
        ' "$stat"
    done
done
