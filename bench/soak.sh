#!/usr/bin/env bash
# Soak: at least 500,000 mixed requests through one gomitm with bounded flows and capture
# budget, sampling its RSS and open file descriptors over time.
#
#   bench/soak.sh              # 500,000 requests (or 30 minutes, whichever first)
#   bench/soak.sh --quick      # 30,000 requests, for development
#
# Options: --requests N, --minutes M, --no-build, --out FILE.md.
# The mix: 1 KiB answers, 64 KiB and 2 MiB bodies (the latter past the 1 MiB capture cap),
# 404s and 500s, upstream resets mid-body, upstream closes without an answer, and client
# aborts mid-body. gomitm runs with --max-flows 20000 --max-capture-total 64MiB and writes a
# HAR on exit, whose entry count shows the bound held. Results: bench/.work/soak.md, RSS and
# fd samples in bench/.work/soak-samples.tsv. Every process started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/.work}
PYTHON=${PYTHON:-python3}
BUILD=1
REQUESTS=500000
MINUTES=30
OUT=""
MAX_FLOWS=20000
MAX_CAPTURE=64MiB
CONCURRENCY=32
MIX="/1k=780,/bytes/65536=80,/bytes/2097152=5,/status/404=60,/status/500=10,/reset/131072=20,/close=20,abort:/bytes/8388608=5,/bytes/16384=20"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) REQUESTS=30000; MINUTES=5 ;;
        --requests) REQUESTS=$2; shift ;;
        --minutes) MINUTES=$2; shift ;;
        --no-build) BUILD=0 ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$WORK/logs"
OUT=${OUT:-$WORK/soak.md}
SAMPLES=$WORK/soak-samples.tsv
HAR=$WORK/soak.har

. "$BENCH_DIR/lib.sh"
build_binaries
make_ca
gomitm_headless_flag
start_upstream

fd_count() { ls "/proc/$1/fd" | wc -l; }

rm -f "$HAR"
start soak-gomitm "$GOMITM" proxy "${NO_TUI[@]}" --listen 127.0.0.1:0 --ca-dir "$CA_DIR" \
    --extra-root "$UP_CA" --resolve "bench.test=$UP" \
    --max-flows "$MAX_FLOWS" --max-capture-total "$MAX_CAPTURE" --har-out "$HAR"
GPID=$LAST_PID
PROXY=$(wait_for "$WORK/logs/soak-gomitm.err" '^gomitm: listening on http://(.*)$' "$GPID")
log "gomitm (pid $GPID) on $PROXY: --max-flows $MAX_FLOWS --max-capture-total $MAX_CAPTURE"
sleep 1
FD_BEFORE=$(fd_count "$GPID")
RSS_BEFORE=$(status_kib "$GPID" VmRSS)

# The sampler: elapsed seconds, RSS KiB, open fds; every 2 s while gomitm lives.
printf 'secs\trss_kib\tfds\n' > "$SAMPLES"
T0=$EPOCHSECONDS
(
    while kill -0 "$GPID" 2>/dev/null; do
        printf '%s\t%s\t%s\n' $((EPOCHSECONDS - T0)) "$(status_kib "$GPID" VmRSS)" \
            "$(ls "/proc/$GPID/fd" 2>/dev/null | wc -l)" >> "$SAMPLES"
        sleep 2
    done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")

log "soak: $REQUESTS requests or $MINUTES minutes, concurrency $CONCURRENCY"
LOAD=$("$BIN/loadgen" mix --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" --mix "$MIX" \
    -c "$CONCURRENCY" -n "$REQUESTS" -t $((MINUTES * 60)) 2> >(tee -a "$WORK/logs/loadgen.err" >&2))
log "load done: $LOAD"
RSS_END=$(status_kib "$GPID" VmRSS)
FD_END=$(fd_count "$GPID")
# Client connections close with the load client; give gomitm a moment to see every close.
sleep 5
FD_SETTLED=$(fd_count "$GPID")
FD_KINDS=$(ls -l "/proc/$GPID/fd" 2>/dev/null | awk 'NR > 1 { sub(/:.*/, "", $NF); print $NF }' | sort | uniq -c | tr -s ' \n' ' ')
# Still serving after it all?
AFTER=$("$BIN/loadgen" rps --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" -c 4 -n 2000 -t 30 2>/dev/null || echo '{"rps":"FAILED"}')
RSS_HWM=$(status_kib "$GPID" VmHWM)
stop "$SAMPLER"
stop "$GPID"
stop "$UPSTREAM_PID"

HAR_ENTRIES=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' "$HAR" 2>/dev/null || echo "no HAR")

"$PYTHON" - "$SAMPLES" "$LOAD" "$AFTER" > "$OUT" <<EOF
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
rows = [(int(s), int(r), int(f)) for s, r, f in rows if r and f]
load = json.loads(sys.argv[2]); after = json.loads(sys.argv[3])
print("Soak: %s requests in %.0f s (%.0f req/s), concurrency $CONCURRENCY, gomitm with "
      "--max-flows $MAX_FLOWS --max-capture-total $MAX_CAPTURE (other settings default)." %
      (f"{load['requests']:,}", load['secs'], load['rps']))
print()
print("Mix (weights per 1000): \`$MIX\`.")
print()
print("| outcome at the client | count |")
print("|---|---:|")
for k in ["ok", "non_2xx", "body_cut", "no_response", "client_aborts", "reconnects"]:
    print(f"| {k} | {load[k]:,} |")
print()
print("| | value |")
print("|---|---:|")
print(f"| RSS at start | {$RSS_BEFORE / 1024:.1f} MiB |")
print(f"| RSS at the end of the load | {$RSS_END / 1024:.1f} MiB |")
print(f"| peak RSS (VmHWM) | {$RSS_HWM / 1024:.1f} MiB |")
print(f"| open fds: start / end of load / 5 s later | $FD_BEFORE / $FD_END / $FD_SETTLED |")
print(f"| fds 5 s later, by kind | $FD_KINDS |")
print(f"| flows in the HAR written on exit | $HAR_ENTRIES (bound: $MAX_FLOWS) |")
print(f"| req/s right after the soak (c=4, 2000 requests) | {after['rps'] if isinstance(after['rps'], str) else round(after['rps'])} |")
print()
if rows:
    print("RSS over time (every tenth of the run):")
    print()
    print("| s | RSS MiB | fds |")
    print("|---:|---:|---:|")
    step = max(1, len(rows) // 10)
    picked = rows[::step]
    if picked[-1] != rows[-1]:
        picked.append(rows[-1])
    for s, r, f in picked:
        print(f"| {s} | {r / 1024:.1f} | {f} |")
    half = rows[len(rows) // 2:]
    print()
    print(f"Second half of the run: RSS between {min(r for _, r, _ in half) / 1024:.1f} and "
          f"{max(r for _, r, _ in half) / 1024:.1f} MiB.")
EOF
cat "$OUT"
log "written to $OUT (samples: $SAMPLES)"
