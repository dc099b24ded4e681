#!/usr/bin/env bash
# Heap bytes per recorded flow, by where they were allocated: gomitm runs under
# `valgrind --tool=massif`, serves WARM + N requests of 1 KiB at concurrency C through the
# bench's load client against the bench's upstream, and stops. The peak snapshot's heap is then
# split by the first gomitm function on each allocation's stack and divided by the requests:
#
#   bench/massif.sh                       # 8,000 requests at c=4
#   GOMITM_BIN=/tmp/gomitm-before bench/massif.sh --no-build --n 4000
#
# Bytes that do not grow with the flows (the event channel, TLS state) show up too, divided
# like the rest; compare rows, not the total. Every process it starts listens on 127.0.0.1 and
# is stopped by PID. The massif file stays in bench/.work/massif/ for `ms_print`.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/.work}
BUILD=1
N=8000
WARM=200
C=4
while [ $# -gt 0 ]; do
    case "$1" in
        --n) N=$2; shift ;;
        --warm) WARM=$2; shift ;;
        -c) C=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "massif.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v valgrind >/dev/null || { echo "massif.sh: valgrind is not installed" >&2; exit 1; }

mkdir -p "$WORK/logs" "$WORK/massif"
. "$BENCH_DIR/lib.sh"
build_binaries
make_ca
start_upstream
gomitm_headless_flag

load() {
    "$BIN/loadgen" rps --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" -c "$C" -n "$1" -t 900 \
        > /dev/null
}

out=$WORK/massif/gomitm.out
rm -f "$out"
start massif-gomitm valgrind --tool=massif --massif-out-file="$out" --threshold=0.5 --depth=40 \
    "$GOMITM" proxy "${NO_TUI[@]}" --listen 127.0.0.1:0 --ca-dir "$CA_DIR" \
    --extra-root "$UP_CA" --resolve "bench.test=$UP"
PID=$LAST_PID
PROXY=$(wait_for "$WORK/logs/massif-gomitm.err" '^gomitm: listening on http://(.*)$' "$PID")
load "$WARM"
load "$N"
stop "$PID"
# massif writes its file as the process exits.
for _ in $(seq 1 50); do [ -s "$out" ] && break; sleep 0.2; done

python3 - "$out" $((N + WARM)) <<'PY'
import collections, re, sys

lines = open(sys.argv[1]).read().split("\n")
flows = float(sys.argv[2])
start = lines.index("heap_tree=peak") + 1
by_site = collections.Counter()


def clean(frame):
    return re.sub(r"^0x[0-9A-F]+: ", "", frame).split(" (in ")[0]


def walk(i, path):
    m = re.match(r"^\s*n(\d+): (\d+) (.*)$", lines[i])
    children, size, frame = int(m.group(1)), int(m.group(2)), m.group(3)
    path = path + [frame]
    i += 1
    if children == 0:
        ours = [clean(f) for f in path if "gomitm::" in f]
        by_site[ours[0][:110] if ours else "(outside gomitm) " + clean(path[-1])[:90]] += size
        return i
    for _ in range(children):
        i = walk(i, path)
    return i


walk(start, [])
for site, size in by_site.most_common(15):
    print(f"{size / flows:9.1f} B/flow  {site}")
print(f"{sum(by_site.values()) / flows:9.1f} B/flow  in all (useful bytes, at the peak)")
PY
