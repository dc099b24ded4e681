# Shared by bench/run.sh and bench/soak.sh (sourced, not run): process bookkeeping, the
# builds, the upstream. Expects BENCH_DIR, ROOT, WORK and BUILD to be set.

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ processes
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD... : runs CMD in the background, stdout/stderr to logs/NAME.{out,err}.
start() {
    local name=$1; shift
    "$@" </dev/null >"$WORK/logs/$name.out" 2>"$WORK/logs/$name.err" &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

stop() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || true
    # A proxy that ignores SIGTERM for 10 s gets SIGKILL.
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# wait_for FILE REGEX PID: prints the first capture group of REGEX once it shows up in FILE.
wait_for() {
    local file=$1 re=$2 pid=$3 i
    for i in $(seq 300); do
        if [ -f "$file" ]; then
            local hit
            hit=$(sed -nE "s#$re#\1#p" "$file" | head -1)
            if [ -n "$hit" ]; then echo "$hit"; return 0; fi
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: no match for /$re/ in $file; its end:" >&2
    tail -20 "$file" >&2 || true
    return 1
}

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# CPU time (ns) a process has used so far, over all its threads (schedstat: exact, not ticks).
cpu_ns() {
    local s=0 a f
    for f in /proc/"$1"/task/*/schedstat; do
        read -r a _ < "$f" 2>/dev/null || continue
        s=$((s + a))
    done
    echo "$s"
}

# Context switches (voluntary + involuntary) a process has made so far, over all its threads.
ctx_switches() {
    local s=0 f
    for f in /proc/"$1"/task/*/status; do
        s=$((s + $(awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }' "$f" 2>/dev/null || echo 0)))
    done
    echo "$s"
}

# ------------------------------------------------------------------ build
# Builds gomitm (release, from the repo root; CARGO_TARGET_DIR applies to this build only) and
# the bench crate (release, its own target dir); sets GOMITM and BIN.
build_binaries() {
    if [ "$BUILD" = 1 ]; then
        log "building gomitm (release)"
        (cd "$ROOT" && cargo build --release --quiet --bin gomitm)
        log "building the bench crate (release)"
        (cd "$BENCH_DIR" && env -u CARGO_TARGET_DIR cargo build --release --quiet --target-dir "$BENCH_DIR/target")
    fi
    local target_dir=${CARGO_TARGET_DIR:-target}
    case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
    # GOMITM_BIN: another gomitm binary to measure (a saved build from before a change).
    GOMITM=${GOMITM_BIN:-$target_dir/release/gomitm}
    BIN=$BENCH_DIR/target/release
    local b
    for b in "$GOMITM" "$BIN/upstream" "$BIN/loadgen"; do
        [ -x "$b" ] || { echo "bench: missing $b (run without --no-build)" >&2; exit 1; }
    done
}

# Starts the HTTPS upstream; sets UPSTREAM_PID, UP (127.0.0.1:PORT), UPORT and UP_CA.
start_upstream() {
    start upstream "$BIN/upstream" --dir "$WORK" "$@"
    UPSTREAM_PID=$LAST_PID
    UP=$(wait_for "$WORK/logs/upstream.out" '^upstream: listening on (.*)$' "$UPSTREAM_PID")
    UPORT=${UP##*:}
    UP_CA=$WORK/upstream-ca.pem
    log "upstream on $UP"
}

# The CA every MITM peer signs with: gomitm's own ECDSA P-256 files. Sets CA_DIR, CA_CERT, CA_KEY.
make_ca() {
    CA_DIR=$WORK/ca
    "$GOMITM" ca path --ca-dir "$CA_DIR" >/dev/null
    CA_CERT=$CA_DIR/gomitm-ca.pem
    CA_KEY=$CA_DIR/gomitm-ca-key.pem
}

# gomitm headless: NO_TUI holds --no-tui when this gomitm has that flag.
gomitm_headless_flag() {
    NO_TUI=()
    if "$GOMITM" proxy --help 2>/dev/null | grep -q -- '--no-tui'; then NO_TUI=(--no-tui); fi
}

# start_row ROW NAME [PREFIX...]: proxy ROW (gomitm, hudsucker, or h1relay, the measuring
# prototype of bench/src/bin/h1relay.rs) on 127.0.0.1 in front of the
# upstream, with PREFIX (valgrind, env VAR=…) before its command, logs as NAME; sets PID and
# PROXY (host:port). Needs make_ca, start_upstream and gomitm_headless_flag first.
start_row() {
    local row=$1 name=$2
    shift 2
    case "$row" in
        gomitm)
            start "$name" "$@" "$GOMITM" proxy "${NO_TUI[@]}" --listen 127.0.0.1:0 \
                --ca-dir "$CA_DIR" --extra-root "$UP_CA" --resolve "bench.test=$UP"
            PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$name.err" '^gomitm: listening on http://(.*)$' "$PID") ;;
        hudsucker)
            start "$name" "$@" "$BIN/hudsucker-noop" --ca-cert "$CA_CERT" --ca-key "$CA_KEY" \
                --upstream-ca "$UP_CA" --resolve-ip 127.0.0.1
            PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$name.out" '^hudsucker-noop: listening on (.*)$' "$PID") ;;
        h1relay)
            start "$name" "$@" "$BIN/h1relay" --ca-cert "$CA_CERT" --ca-key "$CA_KEY" \
                --upstream-ca "$UP_CA" --resolve-ip 127.0.0.1
            PID=$LAST_PID
            PROXY=$(wait_for "$WORK/logs/$name.out" '^h1relay: listening on (.*)$' "$PID") ;;
        *) echo "bench: unknown row $row (gomitm, hudsucker or h1relay)" >&2; return 2 ;;
    esac
}
