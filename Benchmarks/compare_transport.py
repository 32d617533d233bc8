#!/usr/bin/env python3
"""BSONSocket against py-bson, pymongo and C over loopback, measured in one run.

    python3 Benchmarks/compare_transport.py [--rounds N] [--latency-rounds N] [--exchanges N]
                                            [--scale X] [--no-syscalls] [--json PATH]
    make bench-transport                      (the same, from the repository root)

What it does, in order:

1. Finds the two Python environments (.venv-pybson, .venv-pymongo; `make venvs` creates
   them when missing), builds `transport-bench` (Swift, release, scratch path
   Benchmarks/.build-bench-transport) and c/transport_bench.c (gcc -O2, libbson).
2. Has the Swift program generate the document sets once, deterministically: 1,000
   field-rich documents of about 1 KB (strings with and without non-ASCII text, int32,
   int64, doubles, booleans, null, datetimes, nested documents, arrays) and 8 documents of
   about 1 MiB (each an envelope around 1,021 such documents). Both Python libraries must
   decode and re-encode every small document to the same bytes, or the run stops.
3. Starts one sender (C) that every receiver connects to: it writes the pre-encoded frames
   of the files in writes of up to 1 MiB, the same bytes for everyone. Then one
   long-lived receiver worker per language (Swift, C, py-bson, pymongo) and one echo
   server per language.
4. Verification, before any timing: every receiver receives the whole set once and writes
   what it got (decoding receivers: each document encoded again by their own library;
   framing receivers: the frames); each file must equal the set file byte for byte.
5. Interleaved rounds. In each round every contender takes one measurement, in an order
   rotated from round to round so that load from elsewhere on this shared machine hits all
   alike: connect, ask for WARMUP + COUNT documents, receive WARMUP untimed, time COUNT,
   check the clean end of the stream. Timed by the wall clock (the tables' throughput)
   and by the receiving thread's CPU time (user + system, so `recv` counts).
6. Ping-pong latency, interleaved the same way: each client sends one ~1 KB document and
   waits for its echo, against the echo server of its own kind.
7. Syscalls per document, counted by `perf stat` (tracepoints raw_syscalls:sys_enter and
   syscalls:sys_enter_{recvfrom,read,recvmsg}) around a receiver process run for N and
   for 2N documents: the difference divided by N leaves process start-up out. Falls back
   to `strace -f -c` when perf cannot count.
8. Prints Markdown tables (median and min–max over rounds; ratios are taken within a
   round, then summarised) and writes them with every sample and a machine description
   to Benchmarks/results/transport.json (git-ignored).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from compare_codec import cpu_model, first_line  # the shared machine-description helpers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRATCH = os.path.join(HERE, ".build-bench-transport")
VENVS = {"pybson": os.path.join(ROOT, ".venv-pybson"), "pymongo": os.path.join(ROOT, ".venv-pymongo")}
PEER = os.path.join(HERE, "python", "transport_peer.py")
SETS = {"small": 0, "large": 1}
MEASURE_TIMEOUT = 120  # seconds any single worker request may take before the run fails

GOALS = {"pybson": 20.0, "pymongo": 3.0, "framing": 0.8}

# Contenders of the one-way stream: (id, worker, mode, transport, label, documents per
# measurement at --scale 1). Counts aim at roughly 0.2-1 s per measurement here.
SMALL_DECODE = [
    ("ours-obj", "swift", "obj", "tcp", "ours: `BSONSocket.recvObj()`", 60_000),
    ("ours-fd-obj", "swift", "fd-obj", "tcp", "ours: `FileDescriptor.recvObj()` (exact reads)", 60_000),
    ("c-decode", "c", "decode", "tcp", "C: exact reads + libbson walk + UTF-8 check", 60_000),
    ("pymongo", "pymongo", "obj", "tcp", "pymongo: Python framing + `bson.decode`", 30_000),
    ("pybson", "pybson", "obj", "tcp", "py-bson: `sock.recvobj()`", 5_000),
    ("ours-obj-unix", "swift", "obj", "unix", "ours: `BSONSocket.recvObj()`", 60_000),
    ("c-decode-unix", "c", "decode", "unix", "C: exact reads + libbson walk + UTF-8 check", 60_000),
]
SMALL_FRAMING = [
    ("ours-borrow", "swift", "borrow", "tcp", "ours: `withReceivedFrame` (lent in place)", 200_000),
    ("ours-frame", "swift", "frame", "tcp", "ours: `recvFrame()` (copied to `[UInt8]`)", 200_000),
    ("ours-fd-frame", "swift", "fd-frame", "tcp", "ours: `FileDescriptor.recvFrame()` (exact reads)", 100_000),
    ("c-frame", "c", "frame", "tcp", "C: exact reads (4-byte header, body ≤ 32 KiB a call)", 100_000),
    ("c-buffered", "c", "buffered", "tcp", "C: 64 KiB read-ahead framing", 200_000),
    ("ours-borrow-unix", "swift", "borrow", "unix", "ours: `withReceivedFrame` (lent in place)", 200_000),
    ("c-frame-unix", "c", "frame", "unix", "C: exact reads (4-byte header, body ≤ 32 KiB a call)", 100_000),
    ("c-buffered-unix", "c", "buffered", "unix", "C: 64 KiB read-ahead framing", 200_000),
]
# The decode alone, from memory, over the same documents: what each receiver would reach
# if receiving cost nothing.
SMALL_MEMORY = [
    ("ours-mem", "swift", "mem", "memory", "ours: `BSONDocument(bytes:)`", 60_000),
    ("c-mem", "c", "mem", "memory", "C: libbson walk + UTF-8 check", 60_000),
    ("pymongo-mem", "pymongo", "mem", "memory", "pymongo: `bson.decode`", 60_000),
    ("pybson-mem", "pybson", "mem", "memory", "py-bson: `bson.loads`", 5_000),
]
LARGE_DECODE = [
    ("ours-obj", "swift", "obj", "tcp", "ours: `BSONSocket.recvObj()`", 24),
    ("ours-fd-obj", "swift", "fd-obj", "tcp", "ours: `FileDescriptor.recvObj()`", 24),
    ("c-decode", "c", "decode", "tcp", "C: exact reads + libbson walk + UTF-8 check", 24),
]
LARGE_FRAMING = [
    ("ours-borrow", "swift", "borrow", "tcp", "ours: `withReceivedFrame`", 96),
    ("ours-frame", "swift", "frame", "tcp", "ours: `recvFrame()`", 96),
    ("ours-fd-frame", "swift", "fd-frame", "tcp", "ours: `FileDescriptor.recvFrame()`", 96),
    ("c-frame", "c", "frame", "tcp", "C: exact reads", 96),
    ("c-buffered", "c", "buffered", "tcp", "C: 64 KiB read-ahead framing", 96),
]
PING = [
    ("ours", "swift", "ours: `sendObj` + `recvObj` ↔ `BSONThreadedServer` (decode + encode)"),
    ("pymongo", "pymongo", "pymongo: `sendall(encode)` + framing + `decode` ↔ same (decode + encode)"),
    ("pybson", "pybson", "py-bson: `sendobj` + `recvobj` ↔ same (decode + encode)"),
    ("c", "c", "C ↔ C: raw frames echoed, no decode (the floor)"),
]
# Syscall counting: (id, worker, mode, set, documents N; the process runs N and 2N).
SYSCALLS = [
    ("ours-obj", "swift", "obj", "small", 20_000),
    ("ours-borrow", "swift", "borrow", "small", 20_000),
    ("ours-fd-obj", "swift", "fd-obj", "small", 20_000),
    ("c-decode", "c", "decode", "small", 20_000),
    ("c-buffered", "c", "buffered", "small", 20_000),
    ("pymongo", "pymongo", "obj", "small", 10_000),
    ("pybson", "pybson", "obj", "small", 2_000),
    ("ours-obj", "swift", "obj", "large", 16),
    ("ours-borrow", "swift", "borrow", "large", 16),
    ("ours-fd-frame", "swift", "fd-frame", "large", 16),
    ("c-frame", "c", "frame", "large", 16),
    ("c-buffered", "c", "buffered", "large", 16),
]
SYSCALL_EVENTS = ("raw_syscalls:sys_enter", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_read",
                  "syscalls:sys_enter_recvmsg")


def fail(message):
    sys.exit(f"compare_transport: FAILED: {message}")


def note(message):
    print(f"compare_transport: {message}", file=sys.stderr, flush=True)


def run(command, cwd=None, capture=True, timeout=1800):
    result = subprocess.run(command, cwd=cwd, text=True, capture_output=capture, timeout=timeout)
    if result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        fail(f"`{' '.join(command)}` exited with {result.returncode}\n{detail}")
    return result.stdout if capture else ""


def python_of(flavour):
    return os.path.join(VENVS[flavour], "bin", "python")


def ensure_venvs():
    if not all(os.path.exists(os.path.join(venv, ".installed")) for venv in VENVS.values()):
        note("creating the Python environments with `make venvs`")
        run(["make", "-C", ROOT, "venvs"], capture=False)
    for flavour in VENVS:
        if not os.access(python_of(flavour), os.X_OK):
            fail(f"{python_of(flavour)} is missing after `make venvs`")


def build(swift):
    note("building transport-bench (release) and c/transport_bench.c")
    common = ["-c", "release", "--scratch-path", SCRATCH]
    run([swift, "build", *common, "--product", "transport-bench"], cwd=HERE, capture=False)
    bin_path = run([swift, "build", *common, "--show-bin-path"], cwd=HERE).strip()
    flags = run(["pkg-config", "--cflags", "--libs", "libbson-1.0"]).split()
    c_exe = os.path.join(SCRATCH, "transport_bench")
    run(["gcc", "-O2", "-Wall", "-Wextra", "-o", c_exe, os.path.join(HERE, "c", "transport_bench.c"), *flags])
    return os.path.join(bin_path, "transport-bench"), c_exe


# --------------------------------------------------------------------------------------
# Document sets
# --------------------------------------------------------------------------------------

def split_frames(data):
    frames, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<i", data, offset)
        frames.append(data[offset:offset + length])
        offset += length
    return frames


class DocSet:
    def __init__(self, name, path):
        self.name, self.path = name, path
        with open(path, "rb") as handle:
            self.data = handle.read()
        self.sizes = [len(frame) for frame in split_frames(self.data)]
        self.prefix = [0]
        for size in self.sizes:
            self.prefix.append(self.prefix[-1] + size)

    def bytes_between(self, first, count):
        """Bytes of documents first ..< first + count of the cycled stream."""
        def upto(n):
            cycles, rest = divmod(n, len(self.sizes))
            return cycles * self.prefix[-1] + self.prefix[rest]
        return upto(first + count) - upto(first)

    def describe(self):
        return {
            "documents": len(self.sizes), "bytes": len(self.data), "mean_bytes": len(self.data) / len(self.sizes),
            "min_bytes": min(self.sizes), "max_bytes": max(self.sizes),
            "sha256": hashlib.sha256(self.data).hexdigest(),
        }


def check_python_round_trip(small_path):
    """Both Python libraries must decode and re-encode each small document to its bytes."""
    script = (
        "import sys, struct, bson\n"
        "d = open(sys.argv[2], 'rb').read(); o = 0; bad = 0; n = 0\n"
        "enc, dec = (bson.dumps, bson.loads) if sys.argv[1] == 'pybson' else (bson.encode, bson.decode)\n"
        "while o < len(d):\n"
        "    (k,) = struct.unpack_from('<i', d, o); f = d[o:o + k]; o += k; n += 1\n"
        "    bad += enc(dec(f)) != f\n"
        "print(n, bad)\n"
    )
    for flavour in VENVS:
        count, bad = map(int, run([python_of(flavour), "-c", script, flavour, small_path]).split())
        if bad:
            fail(f"{flavour} re-encodes {bad} of {count} documents to different bytes")


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------

def read_line(process, what, timeout=MEASURE_TIMEOUT):
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        fail(f"{what}: no answer within {timeout} s")
    line = process.stdout.readline()
    if not line:
        fail(f"{what}: the process exited (status {process.wait()})")
    return line


class Server:
    """A process that prints "port N" and runs until its stdin closes."""

    def __init__(self, name, command):
        self.name = name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        words = read_line(self.process, f"{name} start-up", timeout=30).split()
        if len(words) != 2 or words[0] != "port":
            fail(f"{name} printed {' '.join(words)!r} instead of its port")
        self.port = int(words[1])

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class Worker:
    """A long-lived receiver / ping client answering one JSON line per request."""

    def __init__(self, side, command):
        self.side = side
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, request):
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        record = json.loads(read_line(self.process, f"the {self.side} worker on `{request}`"))
        if "error" in record:
            fail(f"the {self.side} worker answered `{request}` with: {record['error']}")
        return record

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class Bench:
    def __init__(self, args, swift_exe, c_exe, work):
        self.args, self.swift_exe, self.c_exe, self.work = args, swift_exe, c_exe, work
        self.sets = {}
        self.unix_path = os.path.join(work, "sender.sock")
        self.processes = []

    def commands(self, side):
        small = self.sets["small"].path
        return {
            "swift": [self.swift_exe, "serve", small],
            "c": [self.c_exe, "serve", small],
            "pybson": [python_of("pybson"), PEER, "pybson", "serve", small],
            "pymongo": [python_of("pymongo"), PEER, "pymongo", "serve", small],
        }[side]

    def once_command(self, side, mode, address, set_index, count):
        return {
            "swift": [self.swift_exe, "once", mode, address, str(set_index), str(count)],
            "c": [self.c_exe, "once", mode, address, str(set_index), str(count)],
            "pybson": [python_of("pybson"), PEER, "pybson", "once", address, str(set_index), str(count)],
            "pymongo": [python_of("pymongo"), PEER, "pymongo", "once", address, str(set_index), str(count)],
        }[side]

    def start(self):
        self.sender = Server("sender", [self.c_exe, "sender", self.sets["small"].path, self.sets["large"].path,
                                        self.unix_path])
        self.processes.append(self.sender)
        self.echo = {
            "swift": Server("swift echo server", [self.swift_exe, "echo-server"]),
            "c": Server("C echo server", [self.c_exe, "echo-server"]),
            "pybson": Server("py-bson echo server", [python_of("pybson"), PEER, "pybson", "echo-server"]),
            "pymongo": Server("pymongo echo server", [python_of("pymongo"), PEER, "pymongo", "echo-server"]),
        }
        self.processes.extend(self.echo.values())
        self.workers = {side: Worker(side, self.commands(side)) for side in ("swift", "c", "pybson", "pymongo")}
        self.processes.extend(self.workers.values())

    def stop(self):
        for process in reversed(self.processes):
            process.close()

    def address(self, transport):
        return f"tcp:127.0.0.1:{self.sender.port}" if transport == "tcp" else f"unix:{self.unix_path}"

    # ---------------------------------------------------------------- verification

    def verify(self):
        checks = []
        for set_name, contenders in (("small", SMALL_DECODE + SMALL_FRAMING), ("large", LARGE_DECODE + LARGE_FRAMING)):
            doc_set = self.sets[set_name]
            seen = set()
            for _, side, mode, transport, _, _ in contenders:
                if (side, mode, transport) in seen:
                    continue
                seen.add((side, mode, transport))
                output = os.path.join(self.work, f"verify-{set_name}-{side}-{mode}-{transport}.bson")
                count = len(doc_set.sizes)
                self.workers[side].ask(f"verify {mode} {self.address(transport)} {SETS[set_name]} {count} {output}")
                with open(output, "rb") as handle:
                    got = handle.read()
                os.remove(output)
                if got != doc_set.data:
                    where = next((i for i, (a, b) in enumerate(zip(got, doc_set.data)) if a != b),
                                 min(len(got), len(doc_set.data)))
                    fail(f"{side} {mode} over {transport} on the {set_name} set: {len(got)} bytes, expected "
                         f"{len(doc_set.data)}; first difference at byte {where}")
                checks.append(f"{set_name}/{side}/{mode}/{transport}")
        return checks

    # ---------------------------------------------------------------- throughput

    def throughput(self, name, contenders, doc_set, rounds):
        """samples[id] = [{"docs_s", "mb_s", "cpu_docs_s"}, ...] one per round."""
        samples = {entry[0]: [] for entry in contenders}
        for round_index in range(rounds):
            shift = round_index % len(contenders)
            order = contenders[shift:] + contenders[:shift]
            if round_index % 2 == 1:
                order = list(reversed(order))
            note(f"{name}: round {round_index + 1}/{rounds}")
            for ident, side, mode, transport, _, base_count in order:
                count = max(1, int(base_count * self.args.scale))
                warmup = max(1, count // 10) if doc_set.name == "large" else max(500, count // 10)
                if transport == "memory":
                    request = f"mem {count} {warmup}"
                else:
                    request = f"recv {mode} {self.address(transport)} {SETS[doc_set.name]} {count} {warmup}"
                record = self.workers[side].ask(request)
                if record.get("docs") != count or record.get("ns", 0) <= 0 or record.get("cpu_ns", 0) <= 0:
                    fail(f"{ident}: unexpected answer {record}")
                payload = doc_set.bytes_between(warmup, count)
                samples[ident].append({
                    "docs": count, "bytes": payload, "ns": record["ns"], "cpu_ns": record["cpu_ns"],
                    "docs_s": count / (record["ns"] / 1e9), "mb_s": payload / 1e6 / (record["ns"] / 1e9),
                    "cpu_docs_s": count / (record["cpu_ns"] / 1e9),
                })
        return samples

    # ---------------------------------------------------------------- latency

    def latency(self, rounds, exchanges, warmup):
        samples = {ident: [] for ident, _, _ in PING}
        for round_index in range(rounds):
            shift = round_index % len(PING)
            order = PING[shift:] + PING[:shift]
            note(f"ping-pong: round {round_index + 1}/{rounds}")
            for ident, side, _ in order:
                count = exchanges
                record = self.workers[side].ask(
                    f"ping tcp:127.0.0.1:{self.echo[side].port} {count} {warmup}")
                values = record.get("samples_ns", [])
                if len(values) != count or min(values) <= 0:
                    fail(f"ping {ident}: {len(values)} samples, expected {count}")
                samples[ident].append(values)
        return samples

    # ---------------------------------------------------------------- syscalls

    def count_syscalls(self, command):
        """{event: count} for one run of `command`, by perf stat (or strace as a fallback)."""
        output = os.path.join(self.work, "perf.txt")
        if self.perf_works:
            events = ",".join(SYSCALL_EVENTS)
            result = subprocess.run(["perf", "stat", "-x", ",", "-e", events, "-o", output, "--", *command],
                                    capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                fail(f"`perf stat {' '.join(command)}` exited with {result.returncode}: {result.stderr.strip()}")
            counts = {}
            with open(output, encoding="utf-8") as handle:
                for line in handle:
                    fields = line.strip().split(",")
                    if len(fields) >= 3 and fields[2] in SYSCALL_EVENTS and fields[0].isdigit():
                        counts[fields[2]] = int(fields[0])
            if len(counts) != len(SYSCALL_EVENTS):
                fail(f"perf stat did not count every event: {counts}")
            return {"all": counts["raw_syscalls:sys_enter"],
                    "receive": sum(counts[f"syscalls:sys_enter_{name}"] for name in ("recvfrom", "read", "recvmsg"))}
        result = subprocess.run(["strace", "-f", "-qq", "-c", "-o", output, "--", *command],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            fail(f"`strace {' '.join(command)}` exited with {result.returncode}: {result.stderr.strip()}")
        counts = {"all": 0, "receive": 0}
        with open(output, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 5 and fields[-1] not in ("total", "syscall") and fields[3].isdigit():
                    counts["all"] += int(fields[3])
                    if fields[-1] in ("recvfrom", "read", "recvmsg"):
                        counts["receive"] += int(fields[3])
        return counts

    def syscalls(self):
        probe = subprocess.run(["perf", "stat", "-x", ",", "-e", ",".join(SYSCALL_EVENTS), "--", "true"],
                               capture_output=True, text=True) if shutil.which("perf") else None
        self.perf_works = probe is not None and probe.returncode == 0 and "<not supported>" not in probe.stderr
        if not self.perf_works and not shutil.which("strace"):
            note("neither perf nor strace can count system calls here; skipping syscalls per document")
            return None, None
        tool = "perf stat" if self.perf_works else "strace -f -c"
        results = []
        for ident, side, mode, set_name, count in SYSCALLS:
            count = max(2, int(count * min(self.args.scale, 1.0)))
            note(f"syscalls: {ident} on the {set_name} set ({tool}, {count} and {2 * count} documents)")
            address = self.address("tcp")
            one = self.count_syscalls(self.once_command(side, mode, address, SETS[set_name], count))
            two = self.count_syscalls(self.once_command(side, mode, address, SETS[set_name], 2 * count))
            doc_set = self.sets[set_name]
            per_doc = {key: (two[key] - one[key]) / count for key in one}
            payload = doc_set.bytes_between(count, count)
            results.append({
                "id": ident, "side": side, "mode": mode, "set": set_name, "documents": count,
                "counts_n": one, "counts_2n": two,
                "receive_per_doc": per_doc["receive"], "all_per_doc": per_doc["all"],
                "bytes_per_receive": payload / (two["receive"] - one["receive"]) if two["receive"] > one["receive"] else None,
            })
        return results, tool


# --------------------------------------------------------------------------------------
# Summaries and tables
# --------------------------------------------------------------------------------------

def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def paired(samples, numerator, denominator, key):
    return summary([a[key] / b[key] for a, b in zip(samples[numerator], samples[denominator])])


def fmt_rate(s, digits=0):
    return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"


def fmt_ratio(s):
    return f"**{s['median']:.2f}×** ({s['min']:.2f}–{s['max']:.2f})"


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


def stream_table(title, contenders, samples, baseline, baseline_label):
    lines = [
        title, "",
        f"| receiver | via | docs/s (wall) | MB/s (wall) | docs per CPU-second | {baseline_label} / this, wall | "
        f"{baseline_label} / this, CPU |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for ident, _, _, transport, label, _ in contenders:
        s = samples[ident]
        row = {
            "id": ident, "label": label, "transport": transport,
            "docs_s": summary([x["docs_s"] for x in s]), "mb_s": summary([x["mb_s"] for x in s]),
            "cpu_docs_s": summary([x["cpu_docs_s"] for x in s]),
            "baseline_over_this": paired(samples, baseline, ident, "docs_s"),
            "baseline_over_this_cpu": paired(samples, baseline, ident, "cpu_docs_s"),
        }
        rows.append(row)
        same = ident == baseline
        lines.append(
            f"| {label} | {TRANSPORTS[transport]} | {fmt_rate(row['docs_s'])} | "
            f"{fmt_rate(row['mb_s'])} | {fmt_rate(row['cpu_docs_s'])} | "
            f"{'—' if same else fmt_ratio(row['baseline_over_this'])} | "
            f"{'—' if same else fmt_ratio(row['baseline_over_this_cpu'])} |")
    return lines, rows


TRANSPORTS = {"tcp": "TCP", "unix": "Unix", "memory": "memory"}


def bounds_table(small):
    """Per document: the stream's CPU time, the decode alone, and the difference (what
    receiving and framing add). CPU time of the best round of each: both are CPU-bound, and
    on a shared machine interference only ever adds time, so the fastest round is the
    cleanest picture (medians are in the stream tables)."""
    pairs = [
        ("ours: `recvObj` vs `BSONDocument(bytes:)`", "ours-obj", "ours-mem"),
        ("ours: `FileDescriptor.recvObj` vs `BSONDocument(bytes:)`", "ours-fd-obj", "ours-mem"),
        ("C: exact reads + walk vs walk", "c-decode", "c-mem"),
        ("pymongo: Python framing + decode vs `bson.decode`", "pymongo", "pymongo-mem"),
        ("py-bson: `recvobj` vs `bson.loads`", "pybson", "pybson-mem"),
    ]
    lines = [
        "| receiver | stream µs/doc | decode alone µs/doc | receiving + framing µs/doc | decode share |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = []

    def best_us(ident):
        return min(1e6 / x["cpu_docs_s"] for x in small[ident])

    for label, stream, memory in pairs:
        stream_us, memory_us = best_us(stream), best_us(memory)
        row = {"pair": label, "stream_us": stream_us, "decode_us": memory_us, "receive_us": stream_us - memory_us,
               "decode_share": memory_us / stream_us}
        rows.append(row)
        lines.append(f"| {label} | {stream_us:.2f} | {memory_us:.2f} | {row['receive_us']:+.2f} | "
                     f"{min(row['decode_share'], 9.99) * 100:.0f} % |")
    ceiling_pymongo = best_us("pymongo") / best_us("ours-mem")
    ceiling_pybson = best_us("pybson") / best_us("ours-mem")
    codec_pymongo = best_us("pymongo-mem") / best_us("ours-mem")
    codec_pybson = best_us("pybson-mem") / best_us("ours-mem")
    lines += [
        "",
        "CPU time, best round of each. A decode share near or above 100 % means receiving costs next to nothing "
        "(decoding from a buffer `recv` has just written can be faster than from 1 MB of documents cycled in "
        f"memory). If receiving cost ours nothing, `recvObj` would reach **{ceiling_pymongo:.2f}×** pymongo's "
        f"stream and **{ceiling_pybson:.1f}×** py-bson's; codec against codec, from memory, ours is "
        f"**{codec_pymongo:.2f}×** pymongo and **{codec_pybson:.1f}×** py-bson.",
    ]
    return lines, {"pairs": rows, "ours_decode_over_pymongo_stream": ceiling_pymongo,
                   "ours_decode_over_pybson_stream": ceiling_pybson, "ours_decode_over_pymongo_decode": codec_pymongo,
                   "ours_decode_over_pybson_decode": codec_pybson}


def goals_table(small, large):
    comparisons = [
        ("ours `recvObj` / py-bson `recvobj`", "ours-obj", "pybson", GOALS["pybson"]),
        ("ours `recvObj` / pymongo (Python framing + `bson.decode`)", "ours-obj", "pymongo", GOALS["pymongo"]),
        ("ours `withReceivedFrame` / C exact-read framing", "ours-borrow", "c-frame", GOALS["framing"]),
        ("ours `recvFrame` / C exact-read framing", "ours-frame", "c-frame", GOALS["framing"]),
        ("ours `withReceivedFrame` / C exact-read framing, Unix socket", "ours-borrow-unix", "c-frame-unix",
         GOALS["framing"]),
        ("ours `FileDescriptor.recvFrame` / C exact-read framing (same reads)", "ours-fd-frame", "c-frame", None),
        ("ours `withReceivedFrame` / C read-ahead framing", "ours-borrow", "c-buffered", None),
        ("ours `recvObj` / C exact reads + libbson walk", "ours-obj", "c-decode", None),
        ("ours `FileDescriptor.recvObj` / C exact reads + libbson walk (same reads)", "ours-fd-obj", "c-decode", None),
        ("ours `recvObj` / ours `FileDescriptor.recvObj` (what read-ahead buys)", "ours-obj", "ours-fd-obj", None),
        ("ours `recvObj`, Unix / TCP", "ours-obj-unix", "ours-obj", None),
        ("~1 MiB: ours `withReceivedFrame` / C exact-read framing", "large:ours-borrow", "large:c-frame", None),
        ("~1 MiB: ours `recvObj` / C exact reads + libbson walk", "large:ours-obj", "large:c-decode", None),
    ]
    small = dict(small) | {f"large:{key}": value for key, value in large.items()}
    lines = [
        "| comparison | wall-clock ratio | CPU-time ratio | goal | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    rows = []
    for label, numerator, denominator, goal in comparisons:
        wall = paired(small, numerator, denominator, "docs_s")
        cpu = paired(small, numerator, denominator, "cpu_docs_s")
        met = None if goal is None else wall["median"] >= goal
        rows.append({"comparison": label, "numerator": numerator, "denominator": denominator, "wall": wall,
                     "cpu": cpu, "goal": goal, "met": met})
        lines.append(f"| {label} | {fmt_ratio(wall)} | {fmt_ratio(cpu)} | "
                     f"{'—' if goal is None else f'≥ {goal}×'} | {'—' if met is None else ('yes' if met else 'NO')} |")
    return lines, rows


def latency_table(samples):
    lines = [
        "| client ↔ server | exchanges | p50 µs | p99 µs | p99.9 µs | max µs | p50 per round µs (min–max) | p50 / C floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    floor = statistics.median(sorted(sum(samples["c"], [])))
    for ident, _, label in PING:
        pooled = sorted(sum(samples[ident], []))
        per_round = summary([statistics.median(values) / 1000 for values in samples[ident]])
        row = {
            "id": ident, "label": label, "exchanges": len(pooled),
            "p50_us": percentile(pooled, 0.50) / 1000, "p99_us": percentile(pooled, 0.99) / 1000,
            "p999_us": percentile(pooled, 0.999) / 1000, "max_us": pooled[-1] / 1000,
            "mean_us": statistics.fmean(pooled) / 1000, "p50_per_round_us": per_round,
            "p50_over_c": statistics.median(pooled) / floor,
        }
        rows.append(row)
        lines.append(
            f"| {label} | {row['exchanges']:,} | {row['p50_us']:.1f} | {row['p99_us']:.1f} | {row['p999_us']:.1f} | "
            f"{row['max_us']:.0f} | {fmt_rate(per_round, 1)} | {row['p50_over_c']:.2f}× |")
    return lines, rows


def syscall_table(results, tool):
    lines = [
        f"Counted with {tool}: a receiver process run for N and for 2N documents; per document = "
        "(count(2N) − count(N)) / N, which leaves start-up out. 'receive calls' are recvfrom + read + "
        "recvmsg; 'all' is every system call of the process (futex, clock and so on included).",
        "",
        "| receiver | documents | N | receive calls per doc | all syscalls per doc | bytes per receive call |",
        "|---|---|---:|---:|---:|---:|",
    ]
    labels = {
        "ours-obj": "ours: `BSONSocket.recvObj()`", "ours-borrow": "ours: `withReceivedFrame`",
        "ours-fd-obj": "ours: `FileDescriptor.recvObj()`", "ours-fd-frame": "ours: `FileDescriptor.recvFrame()`",
        "c-decode": "C: exact reads + decode", "c-frame": "C: exact reads", "c-buffered": "C: 64 KiB read-ahead",
        "pymongo": "pymongo: Python framing", "pybson": "py-bson: `recvobj`",
    }
    for row in results:
        per_receive = row["bytes_per_receive"]
        lines.append(
            f"| {labels.get(row['id'], row['id'])} | {'~1 KB' if row['set'] == 'small' else '~1 MiB'} | "
            f"{row['documents']:,} | {row['receive_per_doc']:.3f} | {row['all_per_doc']:.3f} | "
            f"{'—' if per_receive is None else f'{per_receive:,.0f}'} |")
    return lines


def machine(swift):
    cpu = cpu_model()
    return {
        "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
        "swift": first_line([swift, "--version"]),
        "python": first_line([python_of("pymongo"), "--version"]),
        "pymongo": first_line([python_of("pymongo"), "-c", "import pymongo; print(pymongo.version)"]),
        "pybson": first_line([python_of("pybson"), "-c",
                              "import importlib.metadata as m; print(m.version('bson'))"]),
        "libbson": first_line(["pkg-config", "--modversion", "libbson-1.0"]),
        "gcc": first_line(["gcc", "--version"]),
        "kernel": platform.release(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the streams (default 5)")
    parser.add_argument("--latency-rounds", type=int, default=4, help="interleaved ping-pong rounds (default 4)")
    parser.add_argument("--exchanges", type=int, default=5_000,
                        help="timed ping-pong exchanges per client per round (default 5,000)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every document count (default 1)")
    parser.add_argument("--no-syscalls", action="store_true", help="skip counting system calls")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "transport.json"))
    parser.add_argument("--swift", default=os.environ.get("SWIFT", "swift"))
    args = parser.parse_args()
    if not (1 <= args.rounds <= 50 and 1 <= args.latency_rounds <= 50 and 10 <= args.exchanges <= 1_000_000
            and 0.01 <= args.scale <= 20):
        fail("--rounds and --latency-rounds must be 1...50, --exchanges 10...1,000,000, --scale 0.01...20")
    if shutil.which(args.swift) is None:
        fail(f"{args.swift} not found")

    ensure_venvs()
    swift_exe, c_exe = build(args.swift)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="compare-transport-") as work:
        bench = Bench(args, swift_exe, c_exe, work)
        small_path, large_path = os.path.join(work, "small.bson"), os.path.join(work, "large.bson")
        run([swift_exe, "generate", small_path, large_path])
        bench.sets = {"small": DocSet("small", small_path), "large": DocSet("large", large_path)}
        check_python_round_trip(small_path)
        note("document sets: " + ", ".join(
            f"{name} {s.describe()['documents']} × {s.describe()['mean_bytes']:,.0f} B" for name, s in bench.sets.items()))
        try:
            bench.start()
            checks = bench.verify()
            note(f"verified {len(checks)} receivers: every one got the set's bytes")
            wall_start = time.monotonic()
            small = bench.throughput("~1 KB stream", SMALL_DECODE + SMALL_FRAMING + SMALL_MEMORY, bench.sets["small"],
                                     args.rounds)
            large = bench.throughput("~1 MiB stream", LARGE_DECODE + LARGE_FRAMING, bench.sets["large"], args.rounds)
            warmup = max(50, args.exchanges // 10)
            pings = bench.latency(args.latency_rounds, args.exchanges, warmup)
            syscalls, tool = (None, None) if args.no_syscalls else bench.syscalls()
            measured_s = time.monotonic() - wall_start
        finally:
            bench.stop()
        documents = {name: s.describe() for name, s in bench.sets.items()}
    finished = datetime.datetime.now(datetime.timezone.utc)

    count_note = ", ".join(f"{ident} {int(n * args.scale):,}" for ident, _, _, _, _, n in SMALL_DECODE[:5])
    decode_lines, decode_rows = stream_table(
        f"**1. One-way stream of ~1 KB documents, decoded on receipt** (127.0.0.1 TCP unless marked Unix; "
        f"{documents['small']['documents']:,} distinct documents, mean {documents['small']['mean_bytes']:,.0f} B, "
        f"cycled; median over {args.rounds} interleaved rounds (min–max); documents per measurement: {count_note}, "
        f"after 10 % more untimed). CPU = the receiving thread's user + system time.",
        SMALL_DECODE, small, "ours-obj", "ours `recvObj`")
    framing_lines, framing_rows = stream_table(
        "**1e. The same stream, framing only (no decode).**", SMALL_FRAMING, small, "ours-borrow",
        "ours `withReceivedFrame`")
    memory_lines, memory_rows = stream_table(
        "**1m. The decode alone, from memory** (the same documents, no socket; same rounds).", SMALL_MEMORY, small,
        "ours-mem", "ours `BSONDocument(bytes:)`")
    bounds_lines, bounds = bounds_table(small)
    goal_lines, goal_rows = goals_table(small, large)
    large_lines, large_rows = stream_table(
        f"**3. ~1 MiB documents ({documents['large']['documents']} distinct, mean "
        f"{documents['large']['mean_bytes']:,.0f} B): bodies larger than the 64 KiB read-ahead buffer go straight "
        "into their own storage.** Decoded:", LARGE_DECODE, large, "ours-obj", "ours `recvObj`")
    large_framing_lines, large_framing_rows = stream_table(
        "Framing only:", LARGE_FRAMING, large, "ours-borrow", "ours `withReceivedFrame`")
    latency_lines, latency_rows = latency_table(pings)

    parts = decode_lines + [""] + framing_lines + [""] + memory_lines
    parts += ["", "**Where the time of a decoded stream goes** (per document)", "", *bounds_lines]
    parts += ["", "**Ratios and goals** (each taken within a round; wall clock is what the goals are about)", "",
              *goal_lines]
    parts += ["", *large_lines, "", *large_framing_lines, "",
              f"**2. Ping-pong latency** over 127.0.0.1 TCP with TCP_NODELAY: the client sends one ~1 KB document "
              f"and waits for the echo. {args.latency_rounds} interleaved rounds of {args.exchanges:,} timed "
              f"exchanges per client after {warmup:,} untimed; percentiles over all rounds pooled.", "",
              *latency_lines]
    if syscalls:
        parts += ["", "**3b. System calls per document**", "", *syscall_table(syscalls, tool)]
    table = "\n".join(parts)
    print(table)

    report = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "measurement_s": round(measured_s, 1),
        "machine": machine(args.swift) | {"loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "config": {"rounds": args.rounds, "latency_rounds": args.latency_rounds, "exchanges": args.exchanges,
                   "scale": args.scale, "latency_warmup": warmup},
        "documents": documents,
        "verified": checks,
        "stream_small_decode": decode_rows, "stream_small_framing": framing_rows, "decode_from_memory": memory_rows,
        "bounds": bounds, "goals": goal_rows, "stream_large_decode": large_rows,
        "stream_large_framing": large_framing_rows, "latency": latency_rows, "syscalls": syscalls, "syscall_tool": tool,
        "samples": {"small": small, "large": large, "ping_ns": pings},
        "markdown": table,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
        handle.write("\n")
    note(f"wrote {args.json} ({report['duration_s']} s in all, {report['measurement_s']} s of measurement; load "
         f"average {load_before[0]:.2f} before, {report['machine']['loadavg_after'][0]:.2f} after)")


if __name__ == "__main__":
    main()
