"""mitmproxy addon for the gomitm benchmark: connect every upstream to one IP, keeping the port.

The bench's host names (bench.test, goproxy.bench.test, new001.bench.test, ...) exist only
for the proxies; like gomitm's --resolve, this maps them to the upstream on 127.0.0.1 while
the SNI and Host header keep the name.
"""

import os

RESOLVE_IP = os.environ.get("BENCH_RESOLVE_IP", "127.0.0.1")


class Resolve:
    def server_connect(self, data):
        _host, port = data.server.address
        data.server.address = (RESOLVE_IP, port)


addons = [Resolve()]
