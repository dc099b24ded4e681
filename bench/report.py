"""Turns bench/run.sh's raw figures (rep, row, metric, value per line) into markdown tables:
medians per row, ratios against direct, gomitm against each peer, and the targets of issue #6."""

import argparse
import statistics
import sys
from collections import defaultdict

# h1relay is the measuring prototype (HTTP/1.1 without hyper, recording nothing): shown as a
# row and a peer so that gomitm's distance from that design's floor is in the same table.
ROWS = ["direct", "gomitm", "hudsucker", "mitmdump", "mitmdump-stream", "h1relay"]
PEERS = ["hudsucker", "mitmdump", "mitmdump-stream", "h1relay"]


def load(path):
    data = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            _rep, row, metric, value = parts
            try:
                data[(row, metric)].append(float(value))
            except ValueError:
                pass
    return data


def med(data, row, metric):
    vals = data.get((row, metric))
    return statistics.median(vals) if vals else None


def fmt(v, digits=1):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{digits}f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    for opt in ["reps", "quick", "mitmproxy", "hudsucker", "go", "body", "n", "t",
                "mem-n", "mem-n-slow", "hosts", "modules"]:
        ap.add_argument("--" + opt, default="")
    a = ap.parse_args()
    data = load(a.raw)
    rows = [r for r in ROWS if any(k[0] == r for k in data)]
    body_mib = int(a.body) // (1024 * 1024) if a.body else 0
    out = []
    p = out.append

    p(f"Medians of {a.reps} repetition(s){' (--quick)' if a.quick == '1' else ''}; "
      f"rows interleaved. mitmproxy {a.mitmproxy} (mitmdump), hudsucker {a.hudsucker} (no-op), "
      f"{a.go}. Requests/s: 1 KiB responses, HTTP/1.1 keep-alive, {a.n} requests or {a.t} s "
      f"per run, whichever first. Body: one {body_mib} MiB response. New host: median time to "
      f"the first answer on a fresh connection to one of {a.hosts} never-seen names. go mod "
      f"download: {a.modules} modules, fresh module cache. RSS per flow: growth of the proxy's "
      f"RSS over {a.mem_n} requests ({a.mem_n_slow} for mitmdump), minus the captured 1 KiB "
      f"body for gomitm (mitmdump and the no-op hudsucker keep no flows). Proxy CPU: "
      f"the proxy process's own CPU time (all threads, /proc/PID/task/*/schedstat) per request "
      f"at c=16 and for the whole body; steadier than req/s and MB/s on a busy machine.")
    p("")
    cols = [
        ("rps_c1", "req/s c=1", 0), ("rps_c16", "req/s c=16", 0), ("rps_c64", "req/s c=64", 0),
        ("p50_c16", "p50 c=16 ms", 2), ("p99_c16", "p99 c=16 ms", 2),
        ("cpu_us_c16", "proxy CPU µs/req c=16", 0),
        ("cs_per_req_c1", "ctx switches/req c=1", 2),
        ("body_mb_s", f"{body_mib} MiB MB/s", 0), ("body_peak_rss_mib", "peak RSS MiB", 0),
        ("body_cpu_ms", "proxy CPU ms for the body", 0),
        ("new_host_ms", "new host ms", 2), ("gomod_s", "go mod download s", 2),
        ("mem_per_flow_b", "RSS/flow B", 0),
    ]
    p("| row | " + " | ".join(c[1] for c in cols) + " |")
    p("|---|" + "---:|" * len(cols))
    for r in rows:
        p(f"| {r} | " + " | ".join(fmt(med(data, r, m), d) for m, _, d in cols) + " |")
    p("")

    p("Against direct (row ÷ direct; for times and latencies above 1× is slower):")
    p("")
    dcols = [("rps_c1", "req/s c=1"), ("rps_c16", "req/s c=16"), ("rps_c64", "req/s c=64"),
             ("p99_c16", "p99 c=16"), ("body_mb_s", "MB/s"), ("gomod_s", "go mod download"),
             ("new_host_ms", "new host")]
    p("| row | " + " | ".join(c[1] for c in dcols) + " |")
    p("|---|" + "---:|" * len(dcols))
    for r in rows:
        if r == "direct":
            continue
        p(f"| {r} | " + " | ".join(ratio(med(data, r, m), med(data, "direct", m)) for m, _ in dcols) + " |")
    p("")

    if "gomitm" in rows:
        p("gomitm against each peer (gomitm ÷ peer; for req/s and MB/s above 1× is better, "
          "for latency, RSS and time below 1× is better):")
        p("")
        pcols = dcols[:5] + [("body_peak_rss_mib", "peak RSS"), ("gomod_s", "go mod download"),
                             ("new_host_ms", "new host"), ("cpu_us_c16", "CPU/req c=16"),
                             ("cs_per_req_c1", "ctx switches/req c=1"),
                             ("body_cpu_ms", "CPU for the body")]
        p("| peer | " + " | ".join(c[1] for c in pcols) + " |")
        p("|---|" + "---:|" * len(pcols))
        for peer in PEERS:
            if peer in rows:
                p(f"| {peer} | " + " | ".join(ratio(med(data, "gomitm", m), med(data, peer, m)) for m, _ in pcols) + " |")
        p("")
        targets(data, p)

    p("<details><summary>Every repetition</summary>")
    p("")
    p("| row | metric | values |")
    p("|---|---|---|")
    for (r, m), vals in sorted(data.items(), key=lambda kv: (ROWS.index(kv[0][0]) if kv[0][0] in ROWS else 99, kv[0][1])):
        p(f"| {r} | {m} | {', '.join(fmt(v, 2) for v in vals)} |")
    p("")
    p("</details>")
    print("\n".join(out))


def targets(data, p):
    g = lambda m: med(data, "gomitm", m)
    h = lambda m: med(data, "hudsucker", m)
    md = lambda m: med(data, "mitmdump", m)
    d = lambda m: med(data, "direct", m)
    checks = []

    def check(name, value, limit, ok, shown):
        met = "–" if value is None or limit is None else ("met" if ok(value, limit) else "NOT met")
        checks.append((name, shown, met))

    for c in ("1", "16", "64"):
        m = f"rps_c{c}"
        r = g(m) / h(m) if g(m) and h(m) else None
        check(f"req/s c={c} ≥ 1.2× hudsucker", r, 1.2, lambda v, l: v >= l, f"{fmt(r, 2)}×")
    for c in ("1", "16", "64"):
        m = f"rps_c{c}"
        r = g(m) / md(m) if g(m) and md(m) else None
        check(f"req/s c={c} ≥ 25× mitmdump", r, 25, lambda v, l: v >= l, f"{fmt(r, 1)}×")
    r = g("cpu_us_c16") / h("cpu_us_c16") if g("cpu_us_c16") and h("cpu_us_c16") else None
    check("proxy CPU/req c=16 ≤ 0.85× hudsucker", r, 0.85, lambda v, l: v <= l, f"{fmt(r, 2)}×")
    check("p99 c=16 ≤ hudsucker's", g("p99_c16"), h("p99_c16"), lambda v, l: v <= l,
          f"{fmt(g('p99_c16'), 2)} ms vs {fmt(h('p99_c16'), 2)} ms")
    check("ctx switches/req c=1 ≤ hudsucker's", g("cs_per_req_c1"), h("cs_per_req_c1"),
          lambda v, l: v <= l, f"{fmt(g('cs_per_req_c1'), 2)} vs {fmt(h('cs_per_req_c1'), 2)}")
    r = g("body_mb_s") / h("body_mb_s") if g("body_mb_s") and h("body_mb_s") else None
    check("big body MB/s ≥ 1.1× hudsucker", r, 1.1, lambda v, l: v >= l, f"{fmt(r, 2)}×")
    check("big body peak RSS ≤ 24 MiB", g("body_peak_rss_mib"), 24, lambda v, l: v <= l,
          f"{fmt(g('body_peak_rss_mib'), 0)} MiB")
    r = g("gomod_s") / d("gomod_s") if g("gomod_s") and d("gomod_s") else None
    check("go mod download ≤ 1.5× direct", r, 1.5, lambda v, l: v <= l, f"{fmt(r, 2)}×")
    check("≤ 1 KiB per recorded flow beyond captured bytes", g("mem_per_flow_b"), 1024,
          lambda v, l: v <= l, f"{fmt(g('mem_per_flow_b'), 0)} B")
    added = g("new_host_ms") - d("new_host_ms") if g("new_host_ms") is not None and d("new_host_ms") is not None else None
    check("new host's first TLS handshake ≤ 2 ms added", added, 2.0, lambda v, l: v <= l,
          f"{fmt(added, 2)} ms")
    p("Targets (issues #6 and #18):")
    p("")
    p("| target | measured | |")
    p("|---|---:|---|")
    for name, shown, met in checks:
        p(f"| {name} | {shown} | {met} |")
    p("")


if __name__ == "__main__":
    sys.exit(main())
