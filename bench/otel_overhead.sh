#!/usr/bin/env bash
# CPU cost of `--otlp` per flow (issue 16): gomitm proxy (the binary given, default the debug
# build) under a bounded loopback load of N plain-HTTP GETs (one curl, one kept-alive
# connection) to a local upstream, without export, exporting to a local OTLP/HTTP sink that
# answers 200, and exporting to a stalled collector (accepts, never answers). Prints gomitm's
# user+system CPU time divided by N, read from /proc after the load (and a 1.5 s pause so the
# batched export is counted), and the export line gomitm prints at exit.
#
#   bench/otel_overhead.sh [N] [GOMITM_BINARY]
#
# Everything binds 127.0.0.1; every process started here is stopped by its PID.
set -euo pipefail
N=${1:-2000}
BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/target/debug/gomitm}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/servers.py" <<'PY'
import http.server, socket, sys, threading
kind, port_file = sys.argv[1], sys.argv[2]
class Up(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per answer: head and body in two small writes met Nagle and the proxy's
    # delayed ACK, 40 ms per request, and the idle time swamped the CPU figures.
    wbufsize = -1
    def log_message(self, *a): pass
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-type", "application/x-protobuf"); self.send_header("content-length", "0"); self.end_headers()
if kind == "stall":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128)
    open(port_file, "w").write(str(s.getsockname()[1]))
    keep = []
    while True:
        keep.append(s.accept()[0])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Up)
open(port_file, "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
start_py() { python3 "$WORK/servers.py" "$1" "$WORK/$2.port" >/dev/null 2>&1 & PIDS+=($!); }
port_of() { for _ in $(seq 50); do [ -s "$WORK/$1.port" ] && break; sleep 0.1; done; cat "$WORK/$1.port"; }
start_py http up; start_py http sink; start_py stall stall
UP=$(port_of up); SINK=$(port_of sink); STALL=$(port_of stall)
: > "$WORK/curl.cfg"
for i in $(seq "$N"); do echo "url = \"http://127.0.0.1:$UP/item/$i\"" >> "$WORK/curl.cfg"; echo "output = /dev/null" >> "$WORK/curl.cfg"; done
TICK=$(getconf CLK_TCK)

one() { # label, extra args...
    local label=$1; shift
    "$BIN" proxy --listen 127.0.0.1:0 --no-tui -q --ca-dir "$WORK/ca" "$@" 2> "$WORK/$label.err" &
    local pid=$!; PIDS+=($pid)
    local addr=""
    for _ in $(seq 100); do addr=$(sed -n 's/^gomitm: listening on http:\/\///p' "$WORK/$label.err"); [ -n "$addr" ] && break; sleep 0.1; done
    local t0; t0=$(date +%s%N)
    curl -s --proxy "http://$addr" --config "$WORK/curl.cfg"
    local t1; t1=$(date +%s%N)
    sleep 1.5
    local cpu; cpu=$(awk '{print $14+$15}' "/proc/$pid/stat")
    local s0; s0=$(date +%s%N)
    kill -TERM "$pid"; wait "$pid" || true
    local s1; s1=$(date +%s%N)
    printf '%-10s %6d flows  load %5d ms  CPU %6.1f µs/flow  exit %5d ms  %s\n' "$label" "$N" \
        $(( (t1 - t0) / 1000000 )) "$(echo "$cpu * 1000000 / $TICK / $N" | bc -l)" $(( (s1 - s0) / 1000000 )) \
        "$(grep -h 'OpenTelemetry' "$WORK/$label.err" || true)"
}
one none
one otlp --otlp "http://127.0.0.1:$SINK"
one stalled --otlp "http://127.0.0.1:$STALL"
