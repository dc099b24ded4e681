#!/usr/bin/env bash
# The real-world row of docs/PERFORMANCE.md: wall time of the two download tests of
# tests/real_world.rs, run directly and through `gomitm run`, interleaved, N repetitions
# (default 3); prints medians, the spread (min–max) and the gomitm/direct ratio.
#
#   bench/real_world.sh                  # build gomitm (release), 3 repetitions
#   bench/real_world.sh --reps 1 --no-build --gomitm PATH
#
# 1. `go mod download` of tests/data/realworld/go.mod (gin v1.9.1, 53 modules, 51 MB);
# 2. `GOTOOLCHAIN=go1.27.3 go version` (one 76 MB toolchain zip).
# Each run starts from an empty GOMODCACHE. The machine's GOPROXY and GOSUMDB are used, with
# a trailing `direct` replaced by `off`. Each repetition downloads about 250 MB: be polite.
# Go: $BENCH_GO, else $GOMITM_GO_CUR, else `go` (it must be older than go1.27.3 for row 2).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
REPS=3
BUILD=1
GOMITM=""
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) REPS=$2; shift ;;
        --no-build) BUILD=0 ;;
        --gomitm) GOMITM=$2; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "real_world.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

GO=${BENCH_GO:-${GOMITM_GO_CUR:-$(command -v go)}}
if [ -z "$GOMITM" ]; then
    target_dir=${CARGO_TARGET_DIR:-target}
    case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
    GOMITM=$target_dir/release/gomitm
    if [ "$BUILD" = 1 ]; then
        (cd "$ROOT" && cargo build --release --quiet --bin gomitm)
    fi
fi
[ -x "$GOMITM" ] || { echo "real_world.sh: no gomitm binary at $GOMITM" >&2; exit 1; }

GOPROXY_REAL=$(GOTOOLCHAIN=local "$GO" env GOPROXY | sed -E 's/(^|[,|])direct$/\1off/')
GOSUMDB_REAL=$(GOTOOLCHAIN=local "$GO" env GOSUMDB)
first=$(printf '%s' "$GOPROXY_REAL" | tr ',|' '\n\n' | grep -m1 '^https\?://' || true)
if [ -z "$first" ] || ! curl -s -o /dev/null -m 5 "$first/golang.org/x/mod/@v/list"; then
    echo "REAL-WORLD BENCHMARK SKIPPED: the Go module proxy ${first:-(none)} is unreachable" >&2
    exit 0
fi

WORK=$(mktemp -d /tmp/gomitm-bench-real-XXXXXX)
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
RAW=$WORK/raw.tsv
: > "$RAW"

# One timed run in a fresh tree: run_one ROW(direct|gomitm) TEST(graph|toolchain).
run_one() {
    local row=$1 test=$2 dir
    dir=$(mktemp -d "$WORK/run-XXXXXX")
    mkdir "$dir/work"
    local -a cmd=("$GO")
    local toolchain=local
    if [ "$test" = graph ]; then
        cp "$ROOT/tests/data/realworld/go.mod" "$dir/work/go.mod"
        cmd+=(mod download)
    else
        printf 'module example.test/toolchain\n\ngo 1.19\n' > "$dir/work/go.mod"
        cmd+=(version)
        toolchain=go1.27.3
    fi
    if [ "$row" = gomitm ]; then
        cmd=("$GOMITM" run --ca-dir "$dir/ca" -- "${cmd[@]}")
    fi
    local start end
    start=$(date +%s.%N)
    (cd "$dir/work" && env -u HTTPS_PROXY -u HTTP_PROXY -u https_proxy -u http_proxy \
        HOME="$dir" GOMODCACHE="$dir/modcache" GOCACHE="$dir/gocache" GOPATH="$dir/gopath" \
        GOENV=off GOFLAGS=-mod=mod GOTOOLCHAIN="$toolchain" GOPROXY="$GOPROXY_REAL" GOSUMDB="$GOSUMDB_REAL" \
        "${cmd[@]}" >"$dir/out.txt" 2>"$dir/err.txt") || {
        echo "real_world.sh: $row $test failed:" >&2
        tail -20 "$dir/err.txt" >&2
        exit 1
    }
    end=$(date +%s.%N)
    printf '%s\t%s\t%s\n' "$row" "$test" "$(echo "$end - $start" | bc)" >> "$RAW"
    chmod -R u+w "$dir" && rm -rf "$dir"
}

for rep in $(seq 1 "$REPS"); do
    for test in graph toolchain; do
        # Interleaved, alternating which goes first, so drift in the network hits both.
        if [ $((rep % 2)) = 1 ]; then order="direct gomitm"; else order="gomitm direct"; fi
        for row in $order; do
            echo "rep $rep: $test $row" >&2
            run_one "$row" "$test"
        done
    done
done

python3 - "$RAW" "$REPS" "$(GOTOOLCHAIN=local "$GO" version)" <<'EOF'
import statistics, sys
raw, reps, go = sys.argv[1], sys.argv[2], sys.argv[3]
runs = {}
for line in open(raw):
    row, test, secs = line.split("\t")
    runs.setdefault((test, row), []).append(float(secs))
names = {"graph": "go mod download, gin v1.9.1 (53 modules)",
         "toolchain": "GOTOOLCHAIN=go1.27.3 go version (76 MB)"}
print(f"Real-world downloads, {reps} interleaved repetitions, {go}; seconds: median (min–max)\n")
print("| test | direct s | through gomitm s | gomitm/direct (median) | ratio range |")
print("|---|---:|---:|---:|---:|")
for test in ("graph", "toolchain"):
    d, g = runs.get((test, "direct"), []), runs.get((test, "gomitm"), [])
    if not d or not g:
        continue
    md, mg = statistics.median(d), statistics.median(g)
    ratios = [b / a for a, b in zip(d, g)]
    print(f"| {names[test]} | {md:.2f} ({min(d):.2f}–{max(d):.2f}) "
          f"| {mg:.2f} ({min(g):.2f}–{max(g):.2f}) | {mg / md:.2f}× "
          f"| {min(ratios):.2f}–{max(ratios):.2f}× |")
EOF
