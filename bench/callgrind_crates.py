#!/usr/bin/env python3
"""Instructions per request by the crate of the function they ran in, for two callgrind files.

    python3 bench/callgrind_crates.py GOMITM.out HUDSUCKER.out [REQUESTS]
    python3 bench/callgrind_crates.py GOMITM.out HUDSUCKER.out REQUESTS \
        --base GOMITM0.out HUDSUCKER0.out REQUESTS0

Each function's own (exclusive) count goes to the crate its symbol names; code inlined into
a function counts for that function, so `hyper` includes what hyper inlined from `http` or
`bytes`. Both binaries are attributed the same way whether or not they carry line tables
(callgrind then splits a function by source file; the file is ignored here). REQUESTS is the
count `bench/callgrind.sh` measured (default 2,000).

With `--base`, the second pair is a shorter run of the same proxies (say `--n 2000` against
`--n 6000`) and the figures are the difference per extra request: what a request costs once
its connection is open, without the handshakes of the connections the load client opens
after the warm-up (callgrind's counters include those; about 1.4 M instructions each).
"""
import collections
import re
import subprocess
import sys

# First match wins: the crypto libraries' C and assembly symbols (gomitm uses aws-lc-rs,
# hudsucker ring), then the Rust crates.
CATEGORIES = [
    (
        "crypto (aws-lc, ring)",
        r"aws_lc|ring_core|(^|[<\s(&])ring::|^fe_|^table_select|x25519|^aead_|aesni|^gcm_"
        r"|^aes_|^sha\d|^fiat|^ec_|^bn_|^EVP_|^CRYPTO_",
    ),
    ("rustls, tokio-rustls", r"rustls"),
    ("hyper, hyper-util", r"hyper"),
    ("httparse", r"httparse"),
    ("http (HeaderMap…)", r"(^|[<\s(&])http::"),
    ("tokio, mio", r"tokio|mio::"),
    ("gomitm", r"gomitm::"),
    ("hudsucker", r"hudsucker"),
    ("bytes", r"(^|[<\s(&])bytes::"),
    ("std, core, alloc", r"(^|[<\s(&])(std|core|alloc)::"),
]


def functions(path):
    out = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    total = None
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        name = m.group(2)
        if "PROGRAM TOTALS" in name:
            total = n
            continue
        # Thread entry points show the whole thread as their own cost; they are not code.
        if total and n >= total // 2:
            continue
        obj = name.rsplit(" [", 1)[1] if " [" in name else ""
        name = name.rsplit(" [", 1)[0]
        if re.match(r"(\?\?\?|\.?/[^:]*):", name):
            name = name.split(":", 1)[1]
        yield n, name, obj


def category(name, obj):
    if "libc.so" in obj or "ld-linux" in obj:
        if re.search(r"malloc|free|realloc|_int_|tcache|arena|calloc", name):
            return "malloc, free (glibc)"
        if re.search(r"mem(cpy|move|set|cmp)|str(len|cmp)|bcmp", name):
            return "memcpy, memset… (glibc)"
        return "glibc, other"
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "other"


def by_category(path):
    counts = collections.Counter()
    for n, name, obj in functions(path):
        counts[category(name, obj)] += n
    return counts


def main():
    args = sys.argv[1:]
    base = None
    if "--base" in args:
        i = args.index("--base")
        base, args = args[i + 1:], args[:i]
        if len(base) != 3:
            sys.exit(__doc__)
    if len(args) < 2:
        sys.exit(__doc__)
    requests = int(args[2]) if len(args) > 2 else 2000
    a, b = by_category(args[0]), by_category(args[1])
    if base:
        a.subtract(by_category(base[0]))
        b.subtract(by_category(base[1]))
        requests -= int(base[2])
    k = lambda n: n / requests / 1000
    print(f"| crate | {args[0].split('/')[-1]} k | {args[1].split('/')[-1]} k | difference k |")
    print("|---|---:|---:|---:|")
    for cat in sorted(set(a) | set(b), key=lambda c: -max(a[c], b[c])):
        print(f"| {cat} | {k(a[cat]):.2f} | {k(b[cat]):.2f} | {k(a[cat] - b[cat]):+.2f} |")
    print(f"| total | {k(sum(a.values())):.2f} | {k(sum(b.values())):.2f} | "
          f"{k(sum(a.values()) - sum(b.values())):+.2f} |")


if __name__ == "__main__":
    main()
