#!/usr/bin/env python3
"""The whole comparison in one run: codec and transport, Swift against Python and C.

    python3 Benchmarks/bench.py [--quick] [--out DIR] [--swift SWIFT]
    make bench            (full run)        make bench QUICK=1      (under 3 minutes once built)

Writes DIR/results.json (every sample), DIR/report.md (tables, goals, machine) and
DIR/report.png (bar charts); DIR defaults to bench-results/ at the repository root.

Method, for every table alike:

- Same documents for every contender. Codec: the MongoDB driver-benchmark documents flat,
  deep and full (Data/driver-bench/), parsed by our Extended JSON reader and by pymongo's
  and encoded by each; the run stops unless the bytes are identical. Every decoder decodes
  those bytes. Transport: one set file per document kind, frames back to back, sent by one
  C sender to every receiver; every receiver is verified against the set before timing.
- Warm-up excluded: each measurement runs untimed operations first, then the timed ones.
- Round-robin: in every round each contender of a comparison is measured once, in an order
  rotated from round to round, so that load from elsewhere on the machine (this machine
  is shared) hits all alike. Ratios are taken within a round, then summarised.
- Median of the rounds, with min-max beside it. Codec rates are by the measuring thread's
  CPU time (a process waiting for a core is not working); transport rates by the wall
  clock (the receiver waits on the network by design). Both clocks go to results.json.
- Malloc calls per operation for the codec tasks, by a counter preloaded into every codec
  worker (c/malloc_count.c).

Progress lines go to standard error while it runs.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import compare_codec as cc  # noqa: E402  (the codec comparison's workers and checks)
import compare_transport as ct  # noqa: E402  (the transport comparison's processes)

DATA = os.path.join(ROOT, "Data", "driver-bench")
SINGLE = os.path.join(DATA, "single_and_multi_document")
SCRATCH = os.path.join(HERE, ".build-bench")
VENV_PYBSON = os.path.join(ROOT, ".venv-pybson", "bin", "python")
VENV_PYMONGO = os.path.join(ROOT, ".venv-pymongo", "bin", "python")
VENV_BENCH = os.path.join(ROOT, ".venv-bench", "bin", "python")

NAMES = ("flat", "deep", "full")
# The driver-benchmark specification's task sizes, MB per 10,000 operations of the
# BSONBench tasks (benchmarking.md; see Data/driver-bench/SOURCE.md). "score MB/s" is the
# spec's score: this size divided by the median seconds of 10,000 operations.
SPEC_MB = {"flat": 75.31, "deep": 22.84, "full": 57.34}

GOALS = {"decode_pymongo": 1.5, "encode_pymongo": 1.2, "transport_pybson": 20.0, "transport_pymongo": 3.0,
         "framing_c": 0.8}

# ---------------------------------------------------------------------------------- codec

# (id, worker, task prefix, label). Decode and encode contenders; the task is PREFIX/NAME.
DECODE = [
    ("ours-document", "swift", "decode", "ours: BSONDocument(bytes:)"),
    ("ours-view", "swift", "view-decode", "ours: BSONView(bytes:) + validate() (lazy)"),
    ("ours-codable", "swift", "codable-decode", "ours: BSONDecoder (Codable model)"),
    ("libbson-swift", "libbson-swift", "walk-utf8", "libbson from Swift: iterate + UTF-8 (ceiling)"),
    ("libbson-c", "c", "walk-utf8", "libbson from C: iterate + UTF-8"),
    ("pymongo", "pymongo", "decode", "pymongo bson.decode (C extension)"),
    ("pybson", "pybson", "decode", "py-bson 0.5.10 bson.loads"),
    ("jsonserialization", "swift", "jsonserialization-decode", "Foundation JSONSerialization (same data as JSON)"),
    ("jsoncodable", "swift", "jsoncodable-decode", "Foundation JSONDecoder (Codable model, JSON)"),
]
ENCODE = [
    ("ours-document", "swift", "encode", "ours: BSONDocument.encoded()"),
    ("ours-codable", "swift", "codable-encode", "ours: BSONEncoder (Codable model)"),
    ("libbson-swift", "libbson-swift", "rebuild", "libbson from Swift: iterate + append (ceiling)"),
    ("libbson-c", "c", "rebuild", "libbson from C: iterate + append"),
    ("pymongo", "pymongo", "encode", "pymongo bson.encode (C extension)"),
    ("pybson", "pybson", "encode", "py-bson 0.5.10 bson.dumps"),
    ("jsonserialization", "swift", "jsonserialization-encode", "Foundation JSONSerialization (same data as JSON)"),
    ("jsoncodable", "swift", "jsoncodable-encode", "Foundation JSONEncoder (Codable model, JSON)"),
]
# Contenders that are about 20-100 times slower get fewer operations per measurement (the
# rate does not depend on the count; the run time does).
SLOW = {"pybson": 0.05, "jsonserialization": 0.05, "jsoncodable": 0.05}

# ------------------------------------------------------------------------------ transport

# (id, worker, receive mode, transport, label, relative document count)
STREAM = [
    ("ours-obj", "swift", "obj", "tcp", "ours: BSONSocket.recvObj()", 1.0),
    ("ours-obj-unix", "swift", "obj", "unix", "ours: BSONSocket.recvObj()", 1.0),
    ("ours-nio", "swift", "nio", "tcp", "ours: SwiftNIO pipeline (BSONDocumentDecoder)", 1.0),
    ("ours-nio-unix", "swift", "nio", "unix", "ours: SwiftNIO pipeline (BSONDocumentDecoder)", 1.0),
    ("c-decode", "c", "decode", "tcp", "C: exact reads + libbson iterate + UTF-8 (floor)", 1.0),
    ("c-decode-unix", "c", "decode", "unix", "C: exact reads + libbson iterate + UTF-8 (floor)", 1.0),
    ("pymongo", "pymongo", "obj", "tcp", "pymongo: Python framing + bson.decode", 0.4),
    ("pymongo-unix", "pymongo", "obj", "unix", "pymongo: Python framing + bson.decode", 0.4),
    ("pybson", "pybson", "obj", "tcp", "py-bson: sock.recvobj()", 0.04),
    ("pybson-unix", "pybson", "obj", "unix", "py-bson: sock.recvobj()", 0.04),
    ("ours-borrow", "swift", "borrow", "tcp", "ours, framing only: withReceivedFrame", 10.0),
    ("ours-frame", "swift", "frame", "tcp", "ours, framing only: recvFrame() to [UInt8]", 10.0),
    ("c-frame", "c", "frame", "tcp", "C, framing only: exact reads (floor)", 3.0),
    ("c-buffered", "c", "buffered", "tcp", "C, framing only: 64 KiB read-ahead", 10.0),
]
PING = [
    ("ours", "swift", "ping", "swift", "ours: sendObj + recvObj ↔ BSONThreadedServer"),
    ("ours-nio", "swift", "nio-ping", "nio", "ours: BSONClient.request ↔ BSONServer (NIO)"),
    ("c", "c", "ping", "c", "C ↔ C: raw frames echoed (floor)"),
    ("pymongo", "pymongo", "ping", "pymongo", "pymongo: Python framing + decode/encode, both ends"),
    ("pybson", "pybson", "ping", "pybson", "py-bson: sendobj/recvobj, both ends"),
]
# Document kinds of the transport tasks: (id, label, source).
KINDS = [
    ("rich1k", "field-rich ~1 KB (1,000 generated documents)", "generated"),
    ("small_doc", "small_doc (driver bench)", "small_doc.json"),
    ("tweet", "tweet (driver bench)", "tweet.json"),
    ("flat", "flat_bson (driver bench)", "flat_bson.json"),
    ("64k", "64 KiB (generated, field-rich)", "generated"),
    ("large_doc", "large_doc (driver bench)", "large_doc.json"),
]

START = time.monotonic()


def progress(message):
    elapsed = time.monotonic() - START
    print(f"[bench {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}] {message}", file=sys.stderr, flush=True)


def fail(message):
    sys.exit(f"bench: FAILED: {message}")


def run(command, cwd=None, env=None, timeout=3600):
    result = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        fail(f"`{' '.join(command)}` exited with {result.returncode}\n{(result.stderr or '').strip()[-4000:]}")
    return result.stdout


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def ratios(a, b):
    """Per-round ratios; None when either side did not run."""
    if not a or not b:
        return None
    return summary([x / y for x, y in zip(a, b)])


# ---------------------------------------------------------------------------------- build

def build(swift):
    progress("building codec-compare, transport-bench, libbson-swift (release) and the C programs")
    started = time.monotonic()
    common = ["-c", "release", "--scratch-path", SCRATCH]
    for product in ("codec-compare", "transport-bench", "libbson-swift"):
        subprocess.run([swift, "build", *common, "--product", product], cwd=HERE, check=True,
                       stdout=subprocess.DEVNULL if os.environ.get("BENCH_QUIET_BUILD") else None)
    bin_path = run([swift, "build", *common, "--show-bin-path"], cwd=HERE).strip()
    flags = run(["pkg-config", "--cflags", "--libs", "libbson-1.0"]).split()
    exes = {
        "codec-compare": os.path.join(bin_path, "codec-compare"),
        "transport-bench": os.path.join(bin_path, "transport-bench"),
        "libbson-swift": os.path.join(bin_path, "libbson-swift"),
        "libbson_codec": os.path.join(SCRATCH, "libbson_codec"),
        "transport_bench": os.path.join(SCRATCH, "transport_bench"),
        "malloc_count": os.path.join(SCRATCH, "malloc_count.so"),
    }
    run(["gcc", "-O2", "-Wall", "-Wextra", "-o", exes["libbson_codec"], os.path.join(HERE, "c", "libbson_codec.c"),
         *flags])
    run(["gcc", "-O2", "-Wall", "-Wextra", "-o", exes["transport_bench"],
         os.path.join(HERE, "c", "transport_bench.c"), *flags])
    run(["gcc", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", exes["malloc_count"],
         os.path.join(HERE, "c", "malloc_count.c")])
    return exes, time.monotonic() - started


# ---------------------------------------------------------------------------------- codec

class CodecWorker(cc.Worker):
    """A codec worker answering "TASK OPS WARMUP" with one JSON line (cc.Worker's protocol),
    keeping the malloc count."""

    def __init__(self, side, command, env):
        self.side = side
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        bufsize=1, env=env)

    def measure(self, task, ops, warmup):
        self.process.stdin.write(f"{task} {ops} {warmup}\n")
        self.process.stdin.flush()
        line = ct.read_line(self.process, f"the {self.side} codec worker on {task}", timeout=300)
        record = json.loads(line)
        if "error" in record or record.get("task") != task or record.get("ns", 0) <= 0 or record.get("cpu_ns", 0) <= 0:
            fail(f"the {self.side} worker answered {record} for {task}")
        mallocs = record.get("mallocs")
        return {"docs_s": ops / (record["cpu_ns"] / 1e9), "wall_docs_s": ops / (record["ns"] / 1e9),
                "mallocs_per_op": None if mallocs is None or mallocs < 0 else mallocs / ops}


def top_level_counts(python, function, bson_dir):
    script = (
        "import sys, json, bson\n"
        f"decode = bson.{function}\n"
        "print(json.dumps({n: len(decode(open(f'{sys.argv[1]}/{n}.bson', 'rb').read())) for n in sys.argv[2:]}))\n"
    )
    return json.loads(run([python, "-c", script, bson_dir, *NAMES]))


def codec_phase(args, exes, work):
    swift_exe = exes["codec-compare"]
    bson_dir, documents = cc.emit_and_compare(swift_exe, work)
    progress("codec: Swift and pymongo encode identical bytes: "
             + ", ".join(f"{n} {documents[n]['bytes']} B" for n in NAMES))
    json_sizes = json.loads(run([swift_exe, "json-sizes"]))
    available = set(run([swift_exe, "list"]).split())
    env = dict(os.environ, LD_PRELOAD=exes["malloc_count"])
    workers = {
        "swift": CodecWorker("swift", [swift_exe, "serve"], env),
        "libbson-swift": CodecWorker("libbson-swift", [exes["libbson-swift"], bson_dir, "serve"], env),
        "c": CodecWorker("c", [exes["libbson_codec"], bson_dir, "serve"], env),
        "pymongo": CodecWorker("pymongo", [VENV_PYMONGO, os.path.join(HERE, "python", "pymongo_codec.py"), "serve",
                                           DATA], env),
        "pybson": CodecWorker("pybson", [VENV_PYBSON, os.path.join(HERE, "python", "pybson_codec.py"), "serve",
                                         bson_dir], env),
    }
    samples = {}  # samples[op][name][id] = [{docs_s, wall_docs_s, mallocs_per_op}, ...]
    # py-bson 0.5.10 misreads some element types without an error (full_bson: code with
    # scope), returning fewer fields; such a document is left out of its rows.
    ours = top_level_counts(VENV_PYMONGO, "decode", bson_dir)
    theirs = top_level_counts(VENV_PYBSON, "loads", bson_dir)
    unfaithful = {n: f"py-bson 0.5.10 reads {theirs[n]} of the {ours[n]} top-level fields of {n}_bson without an "
                     "error (it misparses code-with-scope), so its rows for it are left out"
                  for n in NAMES if theirs[n] != ours[n]}
    for note in unfaithful.values():
        progress(f"codec: {note}")
    plan = []
    for op, contenders in (("decode", DECODE), ("encode", ENCODE)):
        for name in NAMES:
            present = [c for c in contenders if (c[1] != "swift" or f"{c[2]}/{name}" in available)
                       and not (c[1] == "pybson" and name in unfaithful)]
            plan.append((op, name, present))
    try:
        for round_index in range(args.codec_rounds):
            progress(f"codec: round {round_index + 1}/{args.codec_rounds} "
                     f"({sum(len(p[2]) for p in plan)} measurements of {args.ops:,} operations or fewer)")
            for op, name, present in plan:
                shift = round_index % len(present)
                order = present[shift:] + present[:shift]
                if round_index % 2:
                    order.reverse()
                for ident, side, prefix, _ in order:
                    factor = SLOW.get(ident, 1.0)
                    ops = max(20, int(args.ops * factor))
                    warmup = max(5, ops // 10)
                    record = workers[side].measure(f"{prefix}/{name}", ops, warmup)
                    samples.setdefault(op, {}).setdefault(name, {}).setdefault(ident, []).append(record)
    finally:
        for worker in workers.values():
            worker.close()

    rows = []
    for op, contenders in (("decode", DECODE), ("encode", ENCODE)):
        for name in NAMES:
            got = samples[op][name]
            size = documents[name]["bytes"]
            for ident, side, prefix, label in contenders:
                if ident not in got:
                    continue
                s = got[ident]
                rates = [x["docs_s"] for x in s]
                mallocs = [x["mallocs_per_op"] for x in s if x["mallocs_per_op"] is not None]
                is_json = ident.startswith("json")
                payload = json_sizes[name] if is_json else size
                row = {
                    "op": op, "document": name, "id": ident, "label": label,
                    "docs_s": summary(rates),
                    "wall_docs_s": summary([x["wall_docs_s"] for x in s]),
                    "mb_s": summary([r * payload / 1e6 for r in rates]),
                    "score_mb_s": summary([SPEC_MB[name] / (10_000 / r) for r in rates]),
                    "payload_bytes": payload,
                    "mallocs_per_op": statistics.median(mallocs) if mallocs else None,
                    "vs_pymongo": ratios(rates, [x["docs_s"] for x in got["pymongo"]]),
                    "vs_libbson_swift": ratios(rates, [x["docs_s"] for x in got["libbson-swift"]]),
                }
                rows.append(row)
    return {"documents": documents, "json_bytes": json_sizes, "rows": rows, "samples": samples,
            "notes": list(unfaithful.values())}


# ------------------------------------------------------------------------------ transport

def write_sets(exes, work):
    """One set file per document kind (frames back to back); returns {kind: path}."""
    paths = {}
    rich, big = os.path.join(work, "rich1k.bson"), os.path.join(work, "rich1m.bson")
    run([exes["transport-bench"], "generate", rich, big])
    paths["rich1k"] = rich
    # 64 KiB: field-rich documents wrapped like the ~1 MiB ones, 62 per envelope (~64 KiB).
    mid = os.path.join(work, "64k.bson")
    run([exes["transport-bench"], "generate-wrapped", mid, "62", "8"])
    paths["64k"] = mid
    script = (
        "import sys, bson\n"
        "from bson import json_util\n"
        "for source, target in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    with open(source, encoding='utf-8') as f: doc = json_util.loads(f.read())\n"
        "    with open(target, 'wb') as f: f.write(bson.encode(doc))\n"
    )
    pairs = []
    for kind, _, source in KINDS:
        if source == "generated":
            continue
        folder = DATA if kind == "flat" else SINGLE
        paths[kind] = os.path.join(work, f"{kind}.bson")
        pairs += [os.path.join(folder, source), paths[kind]]
    run([VENV_PYMONGO, "-c", script, *pairs])
    # A kind of one small document is written as many copies of it (at least 256 KiB in
    # all): the C sender writes a set's bytes in chunks of up to 1 MiB per send, so a set of
    # one 250-byte frame would cost it one send per frame and make the sender the limit.
    for kind, path in paths.items():
        with open(path, "rb") as handle:
            data = handle.read()
        if len(ct.split_frames(data)) == 1 and len(data) < 256 * 1024:
            copies = -(-256 * 1024 // len(data))
            with open(path, "wb") as handle:
                handle.write(data * copies)
    return paths


def pybson_round_trips(path):
    """True when py-bson decodes and re-encodes every frame of the set to its bytes."""
    script = (
        "import sys, struct, bson\n"
        "d = open(sys.argv[1], 'rb').read(); o = 0; bad = 0\n"
        "while o < len(d):\n"
        "    (k,) = struct.unpack_from('<i', d, o); f = d[o:o + k]; o += k\n"
        "    bad += bson.dumps(bson.loads(f)) != f\n"
        "print(bad)\n"
    )
    return run([VENV_PYBSON, "-c", script, path]).strip() == "0"


class KindBench(ct.Bench):
    """compare_transport's Bench, for one document kind: its own sender and workers (loaded
    with that kind's documents, for ping-pong); echo servers shared across kinds."""

    def __init__(self, args, exes, work, kind, path, echo):
        super().__init__(args, exes["transport-bench"], exes["transport_bench"], work)
        self.kind = kind
        self.sets = {"small": ct.DocSet("small", path), "large": ct.DocSet("large", path)}
        self.unix_path = os.path.join(work, f"sender-{kind}.sock")
        self.echo = echo

    def start(self):
        path = self.sets["small"].path
        self.sender = ct.Server(f"{self.kind} sender", [self.c_exe, "sender", path, path, self.unix_path])
        self.processes.append(self.sender)
        self.workers = {side: ct.Worker(side, self.commands(side)) for side in ("swift", "c", "pybson", "pymongo")}
        self.processes.extend(self.workers.values())


def skipped(args, kind, side, transport, mean_bytes):
    """Why a contender sits out a document kind, or None. py-bson takes about a second per
    2.5 MB document each way: on large_doc it runs over TCP only, and not at all with
    --quick (which must finish in minutes)."""
    if side == "pybson" and mean_bytes > 1_000_000:
        if args.quick:
            return "py-bson skipped on large_doc in QUICK mode (about 1 s per document each way)"
        if transport == "unix":
            return "py-bson over Unix skipped on large_doc (about 1 s per document each way)"
    return None


def c_floor(mode, transport):
    """The C receiver a row is compared with: exact-read framing for framing-only rows, exact
    reads + libbson walk for decoding rows (over the same transport)."""
    if mode in ("borrow", "frame", "buffered"):
        return "c-frame"
    return "c-decode-unix" if transport == "unix" else "c-decode"


def transport_phase(args, exes, work):
    paths = write_sets(exes, work)
    sets = {kind: ct.DocSet(kind, path) for kind, path in paths.items()}
    for kind, doc_set in sets.items():
        d = doc_set.describe()
        progress(f"transport: {kind}: {d['documents']:,} document(s), mean {d['mean_bytes']:,.0f} B")
    echo = {
        "swift": ct.Server("Swift threaded echo server", [exes["transport-bench"], "echo-server"]),
        "nio": ct.Server("Swift NIO echo server", [exes["transport-bench"], "nio-echo-server"]),
        "c": ct.Server("C echo server", [exes["transport_bench"], "echo-server"]),
        "pybson": ct.Server("py-bson echo server", [VENV_PYBSON, ct.PEER, "pybson", "echo-server"]),
        "pymongo": ct.Server("pymongo echo server", [VENV_PYMONGO, ct.PEER, "pymongo", "echo-server"]),
    }
    results = {}
    try:
        for kind, label, _ in KINDS:
            doc_set = sets[kind]
            mean = doc_set.describe()["mean_bytes"]
            pybson_exact = pybson_round_trips(doc_set.path)
            bench = KindBench(args, exes, work, kind, doc_set.path, echo)
            try:
                bench.start()
                # Verification: every receiver gets the set's bytes (decoders re-encode what they
                # decoded). py-bson cannot re-encode flat_bson to its bytes (no ObjectId, Int64 or
                # Timestamp types); its check is then skipped and the report says so.
                count = len(doc_set.sizes) * (2 if len(doc_set.sizes) <= 1000 else 1)
                for ident, side, mode, transport, _, _ in STREAM:
                    if (side == "pybson" and not pybson_exact) or skipped(args, kind, side, transport, mean):
                        continue
                    out = os.path.join(work, f"verify-{kind}-{ident}.bson")
                    bench.workers[side].ask(f"verify {mode} {bench.address(transport)} 0 {count} {out}")
                    with open(out, "rb") as handle:
                        got = handle.read()
                    os.remove(out)
                    expected = doc_set.data * (count // len(doc_set.sizes))
                    if got != expected:
                        fail(f"transport {kind}: {ident} received {len(got)} bytes that differ from the set's "
                             f"{len(expected)}")
                progress(f"transport: {kind}: every receiver verified ({'py-bson exact' if pybson_exact else 'py-bson skipped: cannot re-encode these bytes'})")
                # Documents per measurement: about args.stream_mb of payload for the fastest.
                base = max(4, int(args.stream_mb * 1e6 / mean))
                streams = {ident: [] for ident, *_ in STREAM}
                for round_index in range(args.transport_rounds):
                    shift = round_index % len(STREAM)
                    order = STREAM[shift:] + STREAM[:shift]
                    if round_index % 2:
                        order.reverse()
                    progress(f"transport: {kind}: stream round {round_index + 1}/{args.transport_rounds}")
                    for ident, side, mode, transport, _, factor in order:
                        if skipped(args, kind, side, transport, mean):
                            continue
                        n = max(2, int(base * factor))
                        warmup = max(1, n // 10)
                        record = bench.workers[side].ask(
                            f"recv {mode} {bench.address(transport)} 0 {n} {warmup}")
                        if record.get("docs") != n or record.get("ns", 0) <= 0:
                            fail(f"{kind} {ident}: unexpected answer {record}")
                        payload = doc_set.bytes_between(warmup, n)
                        streams[ident].append({"docs_s": n / (record["ns"] / 1e9),
                                               "cpu_docs_s": n / (max(record["cpu_ns"], 1) / 1e9),
                                               "mb_s": payload / 1e6 / (record["ns"] / 1e9)})
                pings = {ident: [] for ident, *_ in PING}
                exchanges = max(4, min(args.exchanges, int(args.ping_mb * 1e6 / mean)))
                for round_index in range(args.ping_rounds):
                    shift = round_index % len(PING)
                    order = PING[shift:] + PING[:shift]
                    progress(f"transport: {kind}: ping-pong round {round_index + 1}/{args.ping_rounds} "
                             f"({exchanges:,} exchanges each)")
                    for ident, side, request, server, _ in order:
                        if skipped(args, kind, side, "tcp", mean):
                            continue
                        n = exchanges if side != "pybson" else max(2, exchanges // 10)
                        warmup = max(1 if mean > 1_000_000 else 2, n // 10)
                        record = bench.workers[side].ask(f"{request} tcp:127.0.0.1:{echo[server].port} {n} {warmup}")
                        values = record.get("samples_ns", [])
                        if len(values) != n:
                            fail(f"{kind} ping {ident}: {len(values)} samples, expected {n}")
                        pings[ident].append(statistics.median(values))
            finally:
                bench.stop()
            notes = sorted({why for _, side, _, transport, _, _ in STREAM
                            if (why := skipped(args, kind, side, transport, mean))})
            results[kind] = {"label": label, "set": doc_set.describe(), "pybson_exact": pybson_exact,
                             "stream": streams, "ping_median_ns": pings, "notes": notes}
    finally:
        for server in echo.values():
            server.close()

    rows, ping_rows = [], []
    for kind, label, _ in KINDS:
        r = results[kind]
        s = r["stream"]
        for ident, side, mode, transport, name, _ in STREAM:
            if not s[ident]:
                continue
            rates = [x["docs_s"] for x in s[ident]]
            rows.append({
                "kind": kind, "id": ident, "label": name, "transport": transport,
                "docs_s": summary(rates), "mb_s": summary([x["mb_s"] for x in s[ident]]),
                "cpu_docs_s": summary([x["cpu_docs_s"] for x in s[ident]]),
                "vs_pymongo": ratios(rates, [x["docs_s"] for x in s["pymongo-unix" if transport == "unix" else "pymongo"]]),
                "vs_pybson": ratios(rates, [x["docs_s"] for x in s["pybson-unix" if transport == "unix" else "pybson"]]),
                "vs_c": ratios(rates, [x["docs_s"] for x in s[c_floor(mode, transport)]]),
            })
        p = r["ping_median_ns"]
        for ident, side, _, _, name in PING:
            if not p[ident]:
                continue
            ping_rows.append({
                "kind": kind, "id": ident, "label": name,
                "p50_us": summary([v / 1000 for v in p[ident]]),
                "exchanges_s": summary([1e9 / v for v in p[ident]]),
                "vs_pymongo": ratios([1 / v for v in p[ident]], [1 / v for v in p["pymongo"]]),
                "vs_pybson": ratios([1 / v for v in p[ident]], [1 / v for v in p["pybson"]]),
                "vs_c": ratios([1 / v for v in p[ident]], [1 / v for v in p["c"]]),
            })
    return {"kinds": {k: {"label": v["label"], "set": v["set"], "pybson_exact": v["pybson_exact"],
                          "notes": v["notes"]} for k, v in results.items()},
            "stream_rows": rows, "ping_rows": ping_rows,
            "samples": {k: {"stream": v["stream"], "ping_median_ns": v["ping_median_ns"]} for k, v in results.items()}}


# ---------------------------------------------------------------------------------- report

def machine(swift):
    cpu = cc.cpu_model()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "platform": platform.platform(),
        "swift": cc.first_line([swift, "--version"]), "libbson": cc.first_line(["pkg-config", "--modversion", "libbson-1.0"]),
        "python": cc.first_line([VENV_PYMONGO, "--version"]),
        "pymongo": cc.first_line([VENV_PYMONGO, "-c", "import pymongo, bson; print(pymongo.version, "
                                                   "'(C extension)' if bson.has_c() else '(pure Python)')"]),
        "pybson": cc.first_line([VENV_PYBSON, "-c", "import importlib.metadata as m; print(m.version('bson'))"]),
        "gcc": cc.first_line(["gcc", "--version"]),
        "loadavg": os.getloadavg(),
    }


def goals(codec, transport):
    out = []

    def codec_goal(op, name, goal):
        row = next(r for r in codec["rows"] if r["op"] == op and r["document"] == name and r["id"] == "ours-document")
        ratio = row["vs_pymongo"]
        out.append({"goal": f"{op} {name}_bson: ours / pymongo", "target": goal, "ratio": ratio,
                    "met": ratio["median"] >= goal, "by": ratio["median"] / goal - 1})

    for name in NAMES:
        codec_goal("decode", name, GOALS["decode_pymongo"])
    for name in NAMES:
        codec_goal("encode", name, GOALS["encode_pymongo"])

    def stream(kind, ident):
        return next(r for r in transport["stream_rows"] if r["kind"] == kind and r["id"] == ident)

    for kind in ("rich1k", "tweet"):
        row = stream(kind, "ours-obj")
        for key, target, what in (("vs_pybson", GOALS["transport_pybson"], "py-bson recvobj"),
                                  ("vs_pymongo", GOALS["transport_pymongo"], "pymongo + Python framing")):
            ratio = row[key]
            out.append({"goal": f"transport {kind} (TCP stream): ours recvObj / {what}", "target": target,
                        "ratio": ratio, "met": ratio["median"] >= target, "by": ratio["median"] / target - 1})
    for kind in ("rich1k", "small_doc", "64k"):
        row = stream(kind, "ours-borrow")
        ratio = row["vs_c"]
        out.append({"goal": f"framing {kind} (TCP stream): ours withReceivedFrame / C exact reads",
                    "target": GOALS["framing_c"], "ratio": ratio, "met": ratio["median"] >= GOALS["framing_c"],
                    "by": ratio["median"] / GOALS["framing_c"] - 1})
    return out


def context_lines(transport):
    """Like-for-like figures beside the goals: the C floor against the same Python receivers
    (what any receiver that decodes with libbson reaches here), and our read-ahead framing
    against C's read-ahead framing."""
    def row(kind, ident):
        return next(r for r in transport["stream_rows"] if r["kind"] == kind and r["id"] == ident)

    lines = []
    for kind in ("rich1k", "tweet"):
        c = row(kind, "c-decode")
        ours = row(kind, "ours-obj")
        lines.append(f"- {kind}: the C floor (exact reads + libbson walk) reaches {fmt_ratio(c['vs_pybson'])} py-bson "
                     f"and {fmt_ratio(c['vs_pymongo'])} pymongo on the same stream; ours `recvObj` is "
                     f"{fmt_ratio(ours['vs_c'])} the C floor.")
    for kind in ("rich1k", "small_doc", "64k"):
        ours = [x for x in transport["stream_rows"] if x["kind"] == kind and x["id"] == "ours-borrow"][0]
        buffered = row(kind, "c-buffered")
        same = ratios_of(transport, kind, "ours-borrow", "c-buffered")
        lines.append(f"- {kind}: our read-ahead framing (`withReceivedFrame`, {ours['mb_s']['median']:,.0f} MB/s) "
                     f"against C's 64 KiB read-ahead framing ({buffered['mb_s']['median']:,.0f} MB/s): "
                     f"{fmt_ratio(same)}.")
    return lines


def ratios_of(transport, kind, numerator, denominator):
    samples = transport["samples"][kind]["stream"]
    return ratios([x["docs_s"] for x in samples[numerator]], [x["docs_s"] for x in samples[denominator]])


def fmt(s, digits=0):
    return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"


def fmt_ratio(s):
    if s is None:
        return "—"
    return f"**{s['median']:.2f}×** ({s['min']:.2f}–{s['max']:.2f})"


BOUNDS = {
    "decode": "decode is bounded by libbson's iterator (about 110 instructions per element, the `libbson from Swift` "
              "row is the ceiling of any decoder built on it), by creating Swift `String`s (UTF-8 check and copy) "
              "and by malloc for every string, array and nested document",
    "encode": "encode is bounded by libbson's append path: rebuilding the document in C with the typed "
              "`bson_append_*` functions (the `libbson from C/Swift` rows) is about as fast as ours; pymongo writes "
              "bytes directly without libbson",
    "transport": "a decoding receiver here is bounded by the decode itself (libbson's iterator, Swift strings, "
                 "malloc; see the codec tables) plus the kernel's copy; a C receiver that reads exactly and walks "
                 "the document with libbson (below) does not reach these targets over the same Python receivers "
                 "either, so the transport layer alone cannot close the gap; pymongo decodes in C too, so the "
                 "ratio over it is bounded by the decode ratio plus what Python framing costs it",
    "framing": "framing itself costs a bounds check per frame; the misses are on documents about as large as the "
               "64 KiB read-ahead buffer, where most frames no longer fit beside the previous one's tail and take "
               "the path that reads the body into storage of its own (an allocation and more `recv` calls per "
               "frame), while C's exact-read loop reuses one buffer (our reading, not profiled in this run)",
}


def markdown(report):
    m, config = report["machine"], report["config"]
    codec, transport = report["codec"], report["transport"]
    lines = [
        "# swift-bson-socket benchmark report",
        "",
        f"Generated {report['date']} by `make bench{' QUICK=1' if config['quick'] else ''}` in "
        f"{report['duration_s']:.0f} s (build {report['build_s']:.0f} s, not included). "
        f"Machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; {m['swift']}; libbson {m['libbson']}; "
        f"{m['python']}, pymongo {m['pymongo']}, py-bson {m['pybson']}. Load average at the start "
        f"{m['loadavg'][0]:.1f} (the machine is shared with other jobs).",
        "",
        "**How to read it.** Every figure is a median over interleaved rounds, with the min–max of the rounds in "
        "brackets; each ratio is taken within a round (the contenders of a table ran back to back, in rotating "
        "order), then summarised. Absolute rates move with the machine's load; the ratios are what this report is "
        "about. Codec rates use the measuring thread's CPU time; transport rates use the wall clock.",
        "",
        "## Goals",
        "",
        "| goal | target | measured | met |",
        "|---|---:|---:|:---:|",
    ]
    for g in report["goals"]:
        verdict = "PASS" if g["met"] else f"MISS by {-g['by'] * 100:.0f} %"
        lines.append(f"| {g['goal']} | ≥ {g['target']}× | {fmt_ratio(g['ratio'])} | {verdict} |")
    missed = {g["goal"].split()[0] for g in report["goals"] if not g["met"]}
    if missed:
        lines += ["", "What bounds the misses:", ""]
        for key in ("decode", "encode", "transport", "framing"):
            if key in missed:
                lines.append(f"- **{key}**: {BOUNDS[key]}.")
    lines += ["", "Context for the transport and framing lines (same rounds):", "", *context_lines(transport)]
    lines += [
        "",
        "![bar charts](report.png)",
        "",
        "## Codec (BSONBench style)",
        "",
        f"MongoDB driver-benchmark documents flat (6,046 B), deep (2,286 B) and full (4,026 B) as BSON; "
        f"{config['ops']:,} operations per measurement (py-bson and Foundation JSON fewer: rates do not depend on "
        f"the count), {config['codec_rounds']} rounds. *score MB/s* is the specification's: its task size "
        f"(flat {SPEC_MB['flat']}, deep {SPEC_MB['deep']}, full {SPEC_MB['full']} MB per 10,000 operations) over "
        "the time of 10,000 operations; *MB/s* is true bytes/s (BSON bytes, or JSON text bytes for the JSON rows). "
        "*mallocs/op*: calls into malloc/calloc/realloc/posix_memalign per operation, counted by a preloaded "
        "counter in every worker.",
        "",
    ]
    for op in ("decode", "encode"):
        for name in NAMES:
            lines += [
                f"**{op} {name}_bson**",
                "",
                "| contender | docs/s | true MB/s | score MB/s | mallocs/op | / pymongo | / libbson from Swift |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for r in codec["rows"]:
                if r["op"] != op or r["document"] != name:
                    continue
                mallocs = "—" if r["mallocs_per_op"] is None else f"{r['mallocs_per_op']:,.1f}"
                lines.append(
                    f"| {r['label']} | {fmt(r['docs_s'])} | {r['mb_s']['median']:,.0f} | "
                    f"{r['score_mb_s']['median']:,.0f} | {mallocs} | {fmt_ratio(r['vs_pymongo'])} | "
                    f"{fmt_ratio(r['vs_libbson_swift'])} |")
            lines.append("")
    json_sizes = ", ".join(f"{n} {codec['json_bytes'][n]:,} B" for n in NAMES)
    lines += [f"- {note}." for note in codec["notes"]] + ([""] if codec["notes"] else [])
    lines += [
        "Notes: the lazy view's row is `BSONView(bytes:)` plus `validate()`: every element checked as strictly as "
        "the full decode, no value built (values are built on access). py-bson writes flat back as different bytes "
        "(6,063 B: it has no Int64 or ObjectId types), so that encode row is not quite the same work. "
        "`libbson from Swift/C` checks UTF-8 with libbson's `bson_utf8_validate`, which is slower than our ASCII "
        "fast path, so our decoders can beat this \"ceiling\" on documents of short ASCII strings. The Foundation JSON rows handle the same data as relaxed "
        f"Extended JSON text ({json_sizes}); JSONEncoder/"
        "JSONDecoder run on deep only, the one model whose fields all have a plain JSON form.",
        "",
        "## Transport",
        "",
        f"One C sender writes each document kind's frames (cycled) to every receiver; {config['transport_rounds']} "
        f"rounds of each stream, about {config['stream_mb']} MB per measurement for the fastest receivers (py-bson "
        "and pymongo fewer documents). */ C* compares a decoding receiver with the C floor that reads exactly and "
        "walks the document with libbson, and a framing-only receiver with C's exact-read framing. A kind of one "
        "driver-bench document is sent as a set of copies of it (at least 256 KiB), so that the sender writes in "
        "large chunks and is never the limit.",
        "",
    ]
    for kind, label, _ in KINDS:
        info = transport["kinds"][kind]
        s = info["set"]
        lines += [
            f"**One-way stream: {label}** — {s['documents']:,} frame(s) in the set, mean {s['mean_bytes']:,.0f} B"
            + ("" if info["pybson_exact"] else " (py-bson not verified byte for byte: it cannot re-encode these)")
            + "".join(f"; {note}" for note in info["notes"]),
            "",
            "| receiver | via | docs/s | MB/s | / pymongo | / py-bson | / C |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in transport["stream_rows"]:
            if r["kind"] != kind:
                continue
            lines.append(f"| {r['label']} | {'Unix' if r['transport'] == 'unix' else 'TCP'} | {fmt(r['docs_s'])} | "
                         f"{fmt(r['mb_s'], 1)} | {fmt_ratio(r['vs_pymongo'])} | {fmt_ratio(r['vs_pybson'])} | "
                         f"{fmt_ratio(r['vs_c'])} |")
        lines.append("")
    lines += [
        f"**Ping-pong over 127.0.0.1 TCP** (each client against an echo server of its own kind; median round trip "
        f"per round, {config['ping_rounds']} rounds; py-bson a tenth of the exchanges)",
        "",
        "| document | client ↔ server | p50 µs | exchanges/s | / pymongo | / py-bson | / C |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in transport["ping_rows"]:
        lines.append(f"| {r['kind']} | {r['label']} | {fmt(r['p50_us'], 1)} | {r['exchanges_s']['median']:,.0f} | "
                     f"{fmt_ratio(r['vs_pymongo'])} | {fmt_ratio(r['vs_pybson'])} | {fmt_ratio(r['vs_c'])} |")
    lines += [
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench QUICK=1   # under 3 minutes once built",
        "make bench           # the full run (about 5 minutes)",
        "make bench-check     # the ordo-one suite against Benchmarks/Thresholds (p90 malloc counts)",
        "```",
        "",
        "Raw samples: `results.json` next to this file.",
    ]
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- bench-results:begin (written by Benchmarks/bench.py) -->"
README_END = "<!-- bench-results:end -->"


def readme_section(report):
    """The README's summary: goals, the headline codec and transport figures, the picture."""
    m, codec, transport = report["machine"], report["codec"], report["transport"]
    lines = [
        README_BEGIN,
        f"Latest run: {report['date'][:10]}, `make bench{' QUICK=1' if report['config']['quick'] else ''}`, "
        f"{m['cpu']} ({m['cores']} cores, shared with other jobs), {m['swift']}, libbson {m['libbson']}, "
        f"pymongo {m['pymongo']}, py-bson {m['pybson']}. Medians of interleaved rounds (min–max); ratios taken "
        "within a round. Full tables: [`bench-results/report.md`](bench-results/report.md).",
        "",
        "| goal | target | measured | met |",
        "|---|---:|---:|:---:|",
    ]
    for g in report["goals"]:
        verdict = "PASS" if g["met"] else f"MISS by {-g['by'] * 100:.0f} %"
        lines.append(f"| {g['goal']} | ≥ {g['target']}× | {fmt_ratio(g['ratio'])} | {verdict} |")
    lines += [
        "",
        "| codec, docs/s (CPU time) | ours `BSONDocument` | ours Codable | libbson from Swift | pymongo (C) | py-bson |"
        " ours / pymongo |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in ("decode", "encode"):
        for name in NAMES:
            by_id = {r["id"]: r for r in codec["rows"] if r["op"] == op and r["document"] == name}

            def rate(ident):
                return f"{by_id[ident]['docs_s']['median']:,.0f}" if ident in by_id else "—"

            lines.append(f"| {op} {name}_bson | {rate('ours-document')} | {rate('ours-codable')} | "
                         f"{rate('libbson-swift')} | {rate('pymongo')} | {rate('pybson')} | "
                         f"{fmt_ratio(by_id['ours-document']['vs_pymongo'])} |")
    lines += [
        "",
        "| TCP stream, MB/s (wall clock) | ours `recvObj` | ours NIO | C floor | pymongo | py-bson | ours / pymongo |"
        " ours / py-bson |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label, _ in KINDS:
        by_id = {r["id"]: r for r in transport["stream_rows"] if r["kind"] == kind}

        def mb(ident):
            return f"{by_id[ident]['mb_s']['median']:,.1f}" if ident in by_id else "—"

        lines.append(f"| {label} | {mb('ours-obj')} | {mb('ours-nio')} | {mb('c-decode')} | {mb('pymongo')} | "
                     f"{mb('pybson')} | {fmt_ratio(by_id['ours-obj']['vs_pymongo'])} | "
                     f"{fmt_ratio(by_id['ours-obj']['vs_pybson'])} |")
    lines += ["", "![benchmark bar charts](bench-results/report.png)", "", README_END]
    return "\n".join(lines)


def update_readme(report):
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        progress("README.md has no bench-results markers; left alone")
        return
    text = text[:begin] + readme_section(report) + text[end + len(README_END):]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    progress("README.md: benchmark summary updated")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and operations (under 3 minutes)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    parser.add_argument("--swift", default=os.environ.get("SWIFT", "swift"))
    args = parser.parse_args()
    if args.quick:
        args.codec_rounds, args.ops, args.transport_rounds, args.stream_mb = 5, 2_000, 5, 8
        args.ping_rounds, args.exchanges, args.ping_mb = 3, 500, 4
    else:
        args.codec_rounds, args.ops, args.transport_rounds, args.stream_mb = 7, 10_000, 5, 20
        args.ping_rounds, args.exchanges, args.ping_mb = 4, 2_000, 20
    for path in (VENV_PYBSON, VENV_PYMONGO):
        if not os.access(path, os.X_OK):
            fail(f"{path} is missing: run `make venvs` (make bench does)")
    if shutil.which(args.swift) is None:
        fail(f"{args.swift} not found")

    exes, build_s = build(args.swift)
    progress(f"built in {build_s:.0f} s")
    global START
    START = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine(args.swift)
    # The transport module's Bench reads these.
    args.scale = 1.0
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        codec = codec_phase(args, exes, work)
        transport = transport_phase(args, exes, work)
    duration = time.monotonic() - START
    report = {
        "date": started.isoformat(timespec="seconds"), "duration_s": duration, "build_s": build_s,
        "machine": info,
        "config": {"quick": args.quick, "codec_rounds": args.codec_rounds, "ops": args.ops,
                   "transport_rounds": args.transport_rounds, "stream_mb": args.stream_mb,
                   "ping_rounds": args.ping_rounds, "exchanges": args.exchanges},
        "codec": codec, "transport": transport,
    }
    report["goals"] = goals(codec, transport)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
        handle.write("\n")
    with open(os.path.join(args.out, "report.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown(report))
    png = os.path.join(args.out, "report.png")
    plotter = os.path.join(HERE, "plot_report.py")
    python = VENV_BENCH if os.access(VENV_BENCH, os.X_OK) else sys.executable
    subprocess.run([python, plotter, os.path.join(args.out, "results.json"), png], check=True)
    progress(f"wrote {args.out}/results.json, report.md, report.png ({duration:.0f} s of measurement)")
    if os.path.abspath(args.out) == os.path.join(ROOT, "bench-results"):
        update_readme(report)
    for g in report["goals"]:
        verdict = "PASS" if g["met"] else f"MISS by {-g['by'] * 100:.0f} %"
        print(f"  {g['goal']}: {g['ratio']['median']:.2f}× (goal ≥ {g['target']}×) {verdict}")


if __name__ == "__main__":
    main()
