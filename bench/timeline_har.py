#!/usr/bin/env python3
"""Write a synthetic `go mod download` HAR for sizing the HTML report (docs/REPORTS.md).

    bench/timeline_har.py OUT.har FLOWS

FLOWS requests over FLOWS/3 modules (list, info, mod, zip in turn), spread over a few
seconds in parallel, with dns/connect/tls on the first request of each connection; every
50th answers 404 (a failure to list). Bodies are left out: the report never shows them.
"""
import json
import sys

out, flows = sys.argv[1], int(sys.argv[2])
kinds = ["list", "info", "mod", "zip"]
entries = []
for i in range(flows):
    module = "example.com/group%d/mod%d" % (i // 4 % 7, i // 4)
    kind = kinds[i % 4]
    path = "@v/list" if kind == "list" else "@v/v1.%d.0.%s" % (i % 9, kind)
    status = 404 if i % 50 == 49 else 200
    fresh = i % 16 == 0
    ms = (i * 7) % 4000
    timings = {"blocked": -1, "dns": 3.5 if fresh else -1, "connect": 12.0 if fresh else -1,
               "ssl": 25.0 if fresh else -1, "send": 0.2, "wait": 20 + (i * 13) % 180,
               "receive": 1 + (i * 29) % 400 if kind == "zip" else 0.5}
    entries.append({
        "startedDateTime": "2026-01-01T00:00:%02d.%03dZ" % (ms // 1000, ms % 1000),
        "time": sum(v for v in timings.values() if v > 0),
        "request": {"method": "GET", "url": "https://proxy.golang.org/%s/%s" % (module, path),
                    "httpVersion": "HTTP/2.0",
                    "headers": [{"name": "User-Agent", "value": "Go-http-client/2.0"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2.0",
                     "headers": [], "cookies": [], "redirectURL": "", "headersSize": -1,
                     "bodySize": 2048 if status == 200 else 40,
                     "content": {"size": 2048 if status == 200 else 40,
                                 "mimeType": "application/octet-stream"}},
        "cache": {}, "timings": timings,
    })
with open(out, "w") as f:
    json.dump({"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"},
                       "entries": entries}}, f)
