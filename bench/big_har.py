#!/usr/bin/env python3
"""Write a large HAR for measuring `gomitm report`'s peak memory (docs/HAR.md, "Large HARs").

    bench/big_har.py OUT.har ENTRIES BODY_BYTES [--gomitm]

Every entry is a go command module download (`/@v/vN.zip`); every 50th is a 404 so the
report has a failure to list. Bodies are base64 of BODY_BYTES random-looking bytes. Without
--gomitm the HAR looks like another tool's (no `_gomitm`), whose bodies gomitm caps.
"""
import base64
import os
import sys

out, entries, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
own = "--gomitm" in sys.argv[4:]
blob = base64.b64encode(os.urandom(body)).decode() if body else ""
with open(out, "w") as f:
    f.write('{"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, "entries": [\n')
    for i in range(entries):
        status = 404 if i % 50 == 49 else 200
        ext = ""
        if own:
            ext = (', "_gomitm": {"id": %d, "kind": "http", "state": "done", "startedAtUs": 0,'
                   ' "requestBody": {"truncated": false, "complete": true},'
                   ' "responseBody": {"truncated": false, "complete": true}}' % (i + 1))
        f.write(
            '%s{"startedDateTime": "2024-01-01T00:00:00Z", "time": 12.5,'
            ' "request": {"method": "GET", "url": "https://proxy.golang.org/example.com/mod%d/@v/v1.0.%d.zip",'
            ' "httpVersion": "HTTP/1.1", "headers": [{"name": "User-Agent", "value": "Go-http-client/1.1"}],'
            ' "headersSize": -1, "bodySize": 0},'
            ' "response": {"status": %d, "statusText": "", "httpVersion": "HTTP/1.1",'
            ' "headers": [{"name": "Content-Type", "value": "application/zip"}],'
            ' "content": {"size": %d, "mimeType": "application/zip", "text": "%s", "encoding": "base64"},'
            ' "redirectURL": "", "headersSize": -1, "bodySize": %d},'
            ' "timings": {"send": 1, "wait": 10, "receive": 1.5}%s}\n'
            % ("," if i else "", i, i, status, body, blob, body, ext)
        )
    f.write("]}}\n")
