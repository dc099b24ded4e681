#!/usr/bin/env bash
# gomitm's benchmark against its peers, in one command:
#
#   bench/run.sh            # full run: 3 repetitions, medians (about 20-30 minutes)
#   bench/run.sh --quick    # 1 repetition, small counts (a few minutes), for development
#
# Options: --reps N, --rows direct,gomitm,mitmdump,mitmdump-stream,hudsucker[,h1relay], --out FILE.md,
# --no-build (reuse the binaries and venv already built), --only rps,body,misc,mem (some of the
# measurements: req/s and latency; the big body; new host and go mod download; memory per flow).
#
# It builds gomitm (release, from the repo root; CARGO_TARGET_DIR is honoured for that build
# only), the bench crate (release, bench/target) and a venv with PyPI's mitmproxy (bench/.work),
# starts an HTTPS upstream and each proxy on 127.0.0.1, runs the load client through each, and
# prints a markdown table (also written to bench/.work/results.md, raw figures in raw.tsv).
# Every process it starts is stopped by PID when it exits. Nothing listens beyond 127.0.0.1.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/.work}
PYTHON=${PYTHON:-python3}
GO=${BENCH_GO:-${GOMITM_GO_CUR:-$(command -v go || echo /usr/bin/go)}}

REPS=3
QUICK=0
BUILD=1
ROWS="direct,gomitm,mitmdump,mitmdump-stream,hudsucker"
ONLY="rps,body,misc,mem"
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; REPS=1 ;;
        --reps) REPS=$2; shift ;;
        --rows) ROWS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --no-build) BUILD=0 ;;
        --only) ONLY=$2; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

for m in ${ONLY//,/ }; do
    case "$m" in
        rps|body|misc|mem) ;;
        *) echo "run.sh: --only takes rps, body, misc and mem, not $m" >&2; exit 2 ;;
    esac
done

# Load sizes. Every load is bounded in count and in time.
if [ "$QUICK" = 1 ]; then
    N=3000; T=3; BODY=$((64 * 1024 * 1024)); BODY_T=120
    MEM_N=10000; MEM_N_SLOW=500; HOSTS=10
else
    N=20000; T=10; BODY=$((512 * 1024 * 1024)); BODY_T=300
    MEM_N=100000; MEM_N_SLOW=3000; HOSTS=50
fi
MEM_WARM=2000
MODULES=64

mkdir -p "$WORK/logs"
OUT=${OUT:-$WORK/results.md}
RAW=$WORK/raw.tsv
: > "$RAW"

. "$BENCH_DIR/lib.sh"
build_binaries
VENV=$WORK/venv
if ! "$VENV/bin/mitmdump" --version >/dev/null 2>&1; then
    log "installing mitmproxy (the newest that installs on $($PYTHON --version)) into $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet mitmproxy
fi
MITM_VERSION=$("$VENV/bin/mitmdump" --version | sed -n 's/^Mitmproxy: //p')
HUDSUCKER_VERSION=$(sed -n '/^name = "hudsucker"$/{n;s/^version = "\(.*\)"/\1/p}' "$BENCH_DIR/Cargo.lock")
[ -x "$BIN/hudsucker-noop" ] || { echo "run.sh: missing $BIN/hudsucker-noop" >&2; exit 1; }
HAVE_GO=1
[ -x "$GO" ] || { HAVE_GO=0; log "no go at $GO: the go mod download column stays empty"; }

# ------------------------------------------------------------------ fixtures
# One ECDSA P-256 CA for every MITM peer: gomitm's own files (mitmproxy wants key + cert).
make_ca
MITM_CONF=$WORK/mitmproxy-conf
mkdir -p "$MITM_CONF"
cat "$CA_KEY" "$CA_CERT" > "$MITM_CONF/mitmproxy-ca.pem"
chmod 600 "$MITM_CONF/mitmproxy-ca.pem"

start_upstream --modules "$MODULES"

GOWORK_SRC=$WORK/gowork
mkdir -p "$GOWORK_SRC"
{
    printf 'module benchmain\n\ngo 1.19\n\nrequire (\n'
    for i in $(seq -w 1 "$MODULES"); do printf '\tbench.test/mod%s v1.0.0\n' "$i"; done
    printf ')\n'
} > "$GOWORK_SRC/go.mod"

HOST_NAMES=(bench.test goproxy.bench.test)
for i in $(seq -f '%03g' 1 "$HOSTS"); do HOST_NAMES+=("new$i.bench.test"); done

gomitm_headless_flag

# ------------------------------------------------------------------ proxies
# start_proxy ROW TAG [EXTRA GOMITM ARGS...]: sets PROXY_PID and PROXY (host:port), or
# PROXY="" for direct.
start_proxy() {
    local row=$1 tag=$2; shift 2
    PROXY=""; PROXY_PID=""
    case "$row" in
        direct) return 0 ;;
        gomitm)
            local resolve=() h
            for h in "${HOST_NAMES[@]}"; do resolve+=(--resolve "$h=$UP"); done
            # Default settings: recording every flow, the log line per flow on stderr (to a file).
            start "$tag" "$GOMITM" proxy "${NO_TUI[@]}" --listen 127.0.0.1:0 --ca-dir "$CA_DIR" \
                --extra-root "$UP_CA" "${resolve[@]}" "$@"
            PROXY_PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$tag.err" '^gomitm: listening on http://(.*)$' "$PROXY_PID") ;;
        mitmdump|mitmdump-stream)
            local extra=()
            [ "$row" = mitmdump-stream ] && extra=(--set stream_large_bodies=1m)
            start "$tag" "$VENV/bin/mitmdump" --listen-host 127.0.0.1 --listen-port 0 \
                --set confdir="$MITM_CONF" --set ssl_verify_upstream_trusted_ca="$UP_CA" \
                -s "$BENCH_DIR/mitm_resolve.py" "${extra[@]+"${extra[@]}"}"
            PROXY_PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$tag.out" '.*proxy listening at ([0-9.]+:[0-9]+)\.?$' "$PROXY_PID") ;;
        hudsucker)
            start "$tag" "$BIN/hudsucker-noop" --ca-cert "$CA_CERT" --ca-key "$CA_KEY" \
                --upstream-ca "$UP_CA" --resolve-ip 127.0.0.1
            PROXY_PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$tag.out" '^hudsucker-noop: listening on (.*)$' "$PROXY_PID") ;;
        h1relay)
            # Not a proxy to compare with: the measuring prototype of bench/src/bin/h1relay.rs
            # (HTTP/1.1 heads without hyper, no recording). Only --only rps,body apply.
            start "$tag" "$BIN/h1relay" --ca-cert "$CA_CERT" --ca-key "$CA_KEY" \
                --upstream-ca "$UP_CA" --resolve-ip 127.0.0.1
            PROXY_PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$tag.out" '^h1relay: listening on (.*)$' "$PROXY_PID") ;;
        *) echo "run.sh: unknown row $row" >&2; exit 2 ;;
    esac
}

stop_proxy() { [ -z "$PROXY_PID" ] || stop "$PROXY_PID"; }

# loadgen MODE [ARGS...] through the current proxy (or direct), with the matching CA.
loadgen() {
    local mode=$1; shift
    if [ -n "$PROXY" ]; then
        "$BIN/loadgen" "$mode" --upstream "$UP" --proxy "$PROXY" --ca "$CA_CERT" "$@"
    else
        "$BIN/loadgen" "$mode" --upstream "$UP" --ca "$UP_CA" "$@"
    fi
}

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RAW"; }
field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# ------------------------------------------------------------------ measurements
measure_rps() {
    local rep=$1 row=$2 c out
    start_proxy "$row" "$row-rps-$rep"
    for c in 1 16 64; do
        local cpu0=0 cs0=0
        if [ -n "$PROXY_PID" ]; then cpu0=$(cpu_ns "$PROXY_PID"); cs0=$(ctx_switches "$PROXY_PID"); fi
        if out=$(loadgen rps -c "$c" -n "$N" -t "$T" 2>>"$WORK/logs/loadgen.err"); then
            record "$rep" "$row" "rps_c$c" "$(field "$out" rps)"
            record "$rep" "$row" "errors_c$c" "$(field "$out" errors)"
            if [ "$c" = 1 ] && [ -n "$PROXY_PID" ]; then
                # The proxy's context switches per request at c=1 (each one a wake-up the
                # request waits for).
                record "$rep" "$row" cs_per_req_c1 "$("$PYTHON" -c 'import sys; print(round((int(sys.argv[1]) - int(sys.argv[2])) / max(1, int(sys.argv[3])), 2))' \
                    "$(ctx_switches "$PROXY_PID")" "$cs0" "$(field "$out" requests)")"
            fi
            if [ "$c" = 16 ]; then
                record "$rep" "$row" p50_c16 "$(field "$out" p50_ms)"
                record "$rep" "$row" p99_c16 "$(field "$out" p99_ms)"
                # The proxy's own CPU per request: far steadier than req/s on a busy machine.
                if [ -n "$PROXY_PID" ]; then
                    record "$rep" "$row" cpu_us_c16 \
                        "$(( ($(cpu_ns "$PROXY_PID") - cpu0) / 1000 / $(field "$out" requests) ))"
                fi
            fi
            log "$row c=$c: $(field "$out" rps) req/s"
        else
            log "$row c=$c: failed (see logs/loadgen.err)"
        fi
    done
    stop_proxy
}

measure_body() {
    local rep=$1 row=$2 out
    # A fresh process, so the peak RSS is the body's alone.
    start_proxy "$row" "$row-body-$rep"
    local cpu0=0
    if [ -n "$PROXY_PID" ]; then cpu0=$(cpu_ns "$PROXY_PID"); fi
    if out=$(loadgen body --path "/bytes/$BODY" -t "$BODY_T" 2>>"$WORK/logs/loadgen.err"); then
        record "$rep" "$row" body_mb_s "$(field "$out" mb_s)"
        if [ -n "$PROXY_PID" ]; then
            record "$rep" "$row" body_cpu_ms "$(( ($(cpu_ns "$PROXY_PID") - cpu0) / 1000000 ))"
        fi
        log "$row body: $(field "$out" mb_s) MB/s"
    else
        log "$row body: failed (see logs/loadgen.err)"
    fi
    if [ -n "$PROXY_PID" ]; then
        record "$rep" "$row" body_peak_rss_mib "$(( $(status_kib "$PROXY_PID" VmHWM) / 1024 ))"
    fi
    stop_proxy
}

measure_misc() {
    local rep=$1 row=$2 out
    start_proxy "$row" "$row-misc-$rep"
    if out=$(loadgen hosts --count "$HOSTS" 2>>"$WORK/logs/loadgen.err"); then
        record "$rep" "$row" new_host_ms "$(field "$out" new_host_ms)"
        record "$rep" "$row" known_host_ms "$(field "$out" known_host_ms)"
    else
        log "$row hosts: failed (see logs/loadgen.err)"
    fi
    if [ "$HAVE_GO" = 1 ]; then
        local secs
        if secs=$(go_mod_download "$row" "$rep"); then
            record "$rep" "$row" gomod_s "$secs"
            log "$row go mod download: $secs s"
        else
            log "$row go mod download: failed (see logs/go-$row-$rep.log)"
        fi
    fi
    stop_proxy
}

# go mod download of every module, fresh module cache and go.sum; prints the wall seconds.
go_mod_download() {
    local row=$1 rep=$2 dir=$WORK/go-run
    [ -d "$dir" ] && chmod -R u+w "$dir" && rm -rf "$dir"
    mkdir -p "$dir/work" "$dir/home"
    cp "$GOWORK_SRC/go.mod" "$dir/work/"
    local env=(PATH=/usr/bin:/bin HOME="$dir/home" GOMODCACHE="$dir/modcache" GOCACHE="$WORK/gocache"
        GOPATH="$dir/gopath" GOENV=off GOWORK=off GOTOOLCHAIN=local GO111MODULE=on
        GOFLAGS=-mod=mod GOSUMDB=off GONOSUMDB= GOPRIVATE= GONOPROXY= GOINSECURE=)
    if [ -n "$PROXY" ]; then
        # Go never proxies 127.0.0.1 or localhost: a made-up name the proxy resolves.
        env+=(GOPROXY="https://goproxy.bench.test:$UPORT" HTTPS_PROXY="http://$PROXY"
            SSL_CERT_FILE="$CA_CERT")
    else
        env+=(GOPROXY="https://$UP" SSL_CERT_FILE="$UP_CA")
    fi
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    (cd "$dir/work" && timeout 300 env -i "${env[@]}" "$GO" mod download) \
        >"$WORK/logs/go-$row-$rep.log" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    local got
    got=$(find "$dir/modcache/cache/download/bench.test" -name '*.zip' 2>/dev/null | wc -l)
    chmod -R u+w "$dir" && rm -rf "$dir"
    if [ "$rc" != 0 ] || [ "$got" != "$MODULES" ]; then
        echo "exit $rc, $got of $MODULES zips" >> "$WORK/logs/go-$row-$rep.log"
        return 1
    fi
    "$PYTHON" -c "print(round($t1 - $t0, 3))"
}

measure_mem() {
    local rep=$1 row=$2 n=$MEM_N out before after done_n
    [ "$row" = direct ] && return 0
    case "$row" in mitmdump*) n=$MEM_N_SLOW ;; esac
    # Every flow of the run stays in the store: the default --max-flows (50,000) would evict.
    if [ "$row" = gomitm ]; then
        start_proxy "$row" "$row-mem-$rep" --max-flows $((MEM_N * 2))
    else
        start_proxy "$row" "$row-mem-$rep"
    fi
    loadgen rps -c 16 -n "$MEM_WARM" -t 60 >/dev/null 2>>"$WORK/logs/loadgen.err" || true
    sleep 1
    before=$(status_kib "$PROXY_PID" VmRSS)
    if out=$(loadgen rps -c 16 -n "$n" -t 900 2>>"$WORK/logs/loadgen.err"); then
        sleep 1
        after=$(status_kib "$PROXY_PID" VmRSS)
        done_n=$(field "$out" requests)
        # gomitm keeps each 1 KiB response body (captured bytes); the peers keep nothing.
        local captured=0
        [ "$row" = gomitm ] && captured=1024
        record "$rep" "$row" mem_flows "$done_n"
        record "$rep" "$row" mem_growth_mib "$(( (after - before) / 1024 ))"
        record "$rep" "$row" mem_per_flow_b "$(( (after - before) * 1024 / done_n - captured ))"
        log "$row memory: $(( (after - before) / 1024 )) MiB over $done_n flows"
    else
        log "$row memory: failed (see logs/loadgen.err)"
    fi
    stop_proxy
}

IFS=, read -r -a ROW_LIST <<< "$ROWS"
log "rows: ${ROW_LIST[*]}; $REPS repetition(s); mitmproxy $MITM_VERSION, hudsucker $HUDSUCKER_VERSION"
for rep in $(seq "$REPS"); do
    # Rows interleaved within each measurement, and the order rotated per repetition.
    k=$(( (rep - 1) % ${#ROW_LIST[@]} ))
    ORDER=("${ROW_LIST[@]:$k}" "${ROW_LIST[@]:0:$k}")
    for m in ${ONLY//,/ }; do
        for row in "${ORDER[@]}"; do
            log "rep $rep/$REPS: $m through $row"
            "measure_$m" "$rep" "$row"
        done
    done
done

stop "$UPSTREAM_PID"
{
    echo "<!-- bench/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end -->"
    "$PYTHON" "$BENCH_DIR/report.py" "$RAW" \
        --reps "$REPS" --quick "$QUICK" --mitmproxy "$MITM_VERSION" --hudsucker "$HUDSUCKER_VERSION" \
        --go "$("$GO" version 2>/dev/null || echo none)" --body "$BODY" --n "$N" --t "$T" \
        --mem-n "$MEM_N" --mem-n-slow "$MEM_N_SLOW" --hosts "$HOSTS" --modules "$MODULES"
} > "$OUT"
cat "$OUT"
log "written to $OUT (raw figures: $RAW, logs: $WORK/logs)"
