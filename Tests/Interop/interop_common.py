"""Shared machinery of the two Python interop peers (pybson_peer.py, pymongo_peer.py).

This module never imports `bson`: the two peers run in different virtual environments
whose `bson` modules are different libraries (PyPI bson 0.5.10 and pymongo's bson). Each
peer describes its library as a `Flavour` and hands it to `main()`, which provides the
command line, the server loop, the client modes and the JSON reporting.

Everything here is bounded: every socket has a timeout, every loop has a limit, and the
server exits on its own after a bounded idle time (or a fixed number of connections).
Only 127.0.0.1 and Unix-domain sockets are used.
"""

import argparse
import datetime
import decimal
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time
import uuid

# The largest frame either peer accepts, the same default as the Swift transport and
# MongoDB's largest message: 16 MiB of document plus 16 KiB.
MAX_FRAME = 16 * 1024 * 1024 + 16 * 1024
# The most bytes asked of one recv() call, like py-bson's recvbytes.
RECV_CHUNK = 32 * 1024
# Size limit for printing hex in reports (bigger documents report a length and SHA-256).
DEFAULT_HEX_LIMIT = 64 * 1024
# Bounded loop sizes.
MAX_PIPELINE = 10_000
MAX_BIG = 15 * 1024 * 1024


class PeerError(Exception):
    """A failure a peer reports and exits on (protocol or comparison error)."""


class Truncated(PeerError):
    """The other side closed the connection inside a frame."""


# --------------------------------------------------------------------------------------
# Flavour: what a peer's library contributes.
# --------------------------------------------------------------------------------------

class Flavour:
    """One Python BSON library as seen by the shared code. Subclasses fill in the hooks."""

    name = "?"

    def encode(self, doc):
        """The document as BSON bytes, written by the library."""
        raise NotImplementedError

    def decode(self, data):
        """BSON bytes (one whole document) decoded by the library."""
        raise NotImplementedError

    def send_doc(self, sock, doc):
        """Sends one document the library's way."""
        raise NotImplementedError

    def recv_frame(self, sock):
        """Reads one whole frame; returns its bytes, or None on a clean close between frames."""
        raise NotImplementedError

    def serve_one(self, sock):
        """Receives one document, echoes it after decoding and re-encoding it with the
        library; returns False when the peer closed the connection."""
        raise NotImplementedError

    def canon_special(self, value):
        """A canonical form for the library's own value types, or None for plain Python ones."""
        return None

    def suites(self):
        """Name -> function returning a list of (document name, document)."""
        raise NotImplementedError

    def binary_factory(self):
        """What to wrap the payload of a big binary document in (plain bytes: subtype 0)."""
        return bytes

    def add_modes(self, modes):
        """Adds the flavour's own command-line modes to the `modes` subparsers."""

    def run_mode(self, args):
        """Runs one of the flavour's own modes; returns its exit status, or None when
        `args.mode` is not one of them."""
        return None


# --------------------------------------------------------------------------------------
# Framing helpers usable by any flavour.
# --------------------------------------------------------------------------------------

def recv_exactly(sock, count, at_boundary):
    """Reads exactly `count` bytes in recv_into calls of at most 32 KiB into one buffer.

    Returns None when the peer closes before the first byte and `at_boundary` is true (a
    clean close between frames); raises Truncated when it closes after some bytes.
    """
    buffer = bytearray(count)
    view = memoryview(buffer)
    got = 0
    while got < count:
        n = sock.recv_into(view[got:], min(count - got, RECV_CHUNK))
        if n == 0:
            if got == 0 and at_boundary:
                return None
            raise Truncated("connection closed after %d of %d bytes" % (got, count))
        got += n
    return bytes(buffer)


def recv_frame_python(sock, max_frame=MAX_FRAME):
    """One self-length frame read with our own Python framing.

    Reads the 4-byte little-endian header exactly, checks 5 <= length <= max_frame before
    allocating, then reads the rest into one buffer. Returns None on a clean close before a
    frame starts; raises Truncated on a close inside a frame.
    """
    header = recv_exactly(sock, 4, at_boundary=True)
    if header is None:
        return None
    (length,) = struct.unpack("<i", header)
    if length < 5 or length > max_frame:
        raise PeerError("frame header announces %d bytes (allowed 5...%d)" % (length, max_frame))
    try:
        body = recv_exactly(sock, length - 4, at_boundary=False)
    except Truncated as error:
        raise Truncated("frame of %d bytes: %s" % (length, error)) from None
    return header + body


# --------------------------------------------------------------------------------------
# Canonical form: a JSON-able, type-tagged, ordered picture of a decoded value, used to
# compare "what was sent" with "what came back" after the library's own normalization.
# Floats are compared by their bits, so NaN equals NaN and -0.0 differs from 0.0.
# --------------------------------------------------------------------------------------

def float_bits(value):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", value))[0]


def canon(value, flavour):
    special = flavour.canon_special(value)
    if special is not None:
        return special
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", float_bits(value), repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    if isinstance(value, datetime.datetime):
        return ["datetime", value.isoformat(), datetime_millis(value)]
    if isinstance(value, decimal.Decimal):
        return ["decimal", str(value)]
    if isinstance(value, dict):
        return ["dict", [[canon_key(k), canon(v, flavour)] for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return ["list", [canon(v, flavour) for v in value]]
    return ["unknown", type(value).__name__, repr(value)]


def canon_key(key):
    if isinstance(key, bytes):
        return "bytes:" + key.hex()
    return key


def datetime_millis(value):
    """Milliseconds since the epoch of a datetime (naive means UTC), to the nearest one
    (py-bson's decoder can land a few microseconds off a whole millisecond)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.replace(tzinfo=None) - value.utcoffset()
    delta = value - datetime.datetime(1970, 1, 1)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (micros + 500) // 1000


# --------------------------------------------------------------------------------------
# Deterministic large documents (the Swift side builds the same bytes itself).
# --------------------------------------------------------------------------------------

# {"data": <binary|string>}: 4 (length) + 1 (type) + 5 ("data\0") + 4 (value length)
# + 1 (subtype, or the string's NUL) + 1 (terminator).
BIG_OVERHEAD = 16
ALPHABET = b"abcdefghijklmnopqrstuvwxyz"


def big_payload_bytes(count):
    """count bytes: 0, 1, ..., 255, 0, 1, ..."""
    block = bytes(range(256))
    return (block * (count // 256 + 1))[:count]


def big_payload_text(count):
    """count ASCII letters: a...z repeated."""
    return (ALPHABET * (count // 26 + 1))[:count].decode("ascii")


def big_document(size, kind, binary_factory=bytes):
    """A document whose encoding is exactly `size` bytes: {} for 5, else {"data": payload}."""
    if size == 5:
        return {}
    if size < BIG_OVERHEAD:
        raise PeerError("a big document has 5 or at least %d bytes, not %d" % (BIG_OVERHEAD, size))
    if size > MAX_BIG:
        raise PeerError("size %d is over the limit of %d" % (size, MAX_BIG))
    payload = size - BIG_OVERHEAD
    if kind == "binary":
        return {"data": binary_factory(big_payload_bytes(payload))}
    if kind == "string":
        return {"data": big_payload_text(payload)}
    raise PeerError("unknown kind %r" % kind)


# The sizes suite, shared by both flavours: name "KIND-SIZE", the encoded size in bytes.
SIZES = [
    ("binary", 5),
    ("binary", 16),
    ("string", 17),
    ("binary", 1024),
    ("binary", RECV_CHUNK - 1),
    ("binary", RECV_CHUNK),
    ("binary", RECV_CHUNK + 1),
    ("string", 100_000),
    ("binary", 1024 * 1024),
    ("string", 8 * 1024 * 1024),
    ("binary", 8 * 1024 * 1024),
]


def sizes_suite(binary_factory=bytes):
    return [("%s-%d" % (kind, size), big_document(size, kind, binary_factory)) for kind, size in SIZES]


# The basic suite: plain Python values that py-bson and pymongo both write, and write to
# the same bytes. Datetimes are whole milliseconds and UTC-aware, so py-bson's rounding and
# pymongo's truncation agree. The Swift tests hold the expected value of every entry.
UTC = datetime.timezone.utc
FIXED_UUID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
DEEP_LEVELS = 50


def deep_document(levels):
    doc = {"leaf": True}
    for _ in range(levels):
        doc = {"d": doc}
    return doc


def basic_suite():
    return [
        ("empty", {}),
        ("seed", {"type": "greeting", "message": "Hello server!", "count": 3, "tags": ["a", "b"]}),
        ("string", {"ascii": "hello", "empty": "", "nul": "a\x00b", "utf8": "\u00e9\u20ac\U0001d11e\U0001f600"}),
        ("int32", {"zero": 0, "one": 1, "neg": -1, "min": -2**31, "max": 2**31 - 1}),
        ("int64", {"above": 2**31, "below": -2**31 - 1, "min": -2**63, "max": 2**63 - 1}),
        ("double", {"pi": 3.141592653589793, "nan": float("nan"), "inf": float("inf"),
                    "ninf": float("-inf"), "nzero": -0.0, "zero": 0.0, "tiny": 5e-324,
                    "max": 1.7976931348623157e308}),
        ("bool", {"t": True, "f": False}),
        ("null", {"n": None}),
        ("document", {"empty": {}, "nested": {"a": {"b": {"c": 1}}}, "order": {"z": 1, "a": 2, "m": 3}}),
        ("array", {"empty": [], "mixed": [1, "two", 3.0, None, True, [4, [5]], {"six": 6}]}),
        ("binary", {"empty": b"", "all": bytes(range(256))}),
        ("uuid", {"u": FIXED_UUID}),
        ("datetime", {
            "epoch": datetime.datetime(1970, 1, 1, tzinfo=UTC),
            "leap": datetime.datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=UTC),
            "before": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
            "min": datetime.datetime(1, 1, 1, tzinfo=UTC),
            "max": datetime.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        }),
        ("keys", {"": 1, "\u00e9": 2, "a.b": 3, "$x": 4, "with space": 5}),
        ("deep", deep_document(DEEP_LEVELS)),
    ]


# With `pipeline --vary`, document i also carries (i * 7919) % 150001 payload bytes: sizes
# from nothing to about 146 KiB in no particular order, so frames straddle the boundaries
# of any read-ahead buffer and small frames sit between large ones.
VARY_STEP = 7919
VARY_MODULUS = 150_001


def pipeline_document(index, vary=False, binary_factory=bytes):
    """The index-th document of `pipeline N`: small, and different for every index."""
    doc = {"seq": index, "text": "document %d" % index, "square": index * index}
    if vary:
        doc["pad"] = binary_factory(big_payload_bytes(index * VARY_STEP % VARY_MODULUS))
    return doc


# --------------------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------------------

def emit_line(record):
    sys.stdout.write(json.dumps(record, sort_keys=True, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def log(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def bytes_report(prefix, data, hex_limit):
    """Length, SHA-256 and (when small enough) hex of some bytes, under `prefix`_*."""
    record = {prefix + "_len": len(data), prefix + "_sha256": hashlib.sha256(data).hexdigest()}
    if len(data) <= hex_limit:
        record[prefix + "_hex"] = data.hex()
    return record


# --------------------------------------------------------------------------------------
# Connections.
# --------------------------------------------------------------------------------------

def connect(args):
    if args.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = args.unix
    else:
        if args.port is None:
            raise PeerError("give --port (with --host) or --unix")
        check_loopback(args.host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (args.host, args.port)
    sock.settimeout(args.timeout)
    sock.connect(target)
    return sock


def check_loopback(host):
    if host not in ("127.0.0.1", "localhost"):
        raise PeerError("only 127.0.0.1 is allowed, not %r" % host)


# --------------------------------------------------------------------------------------
# Server.
# --------------------------------------------------------------------------------------

class ServerState:
    """Counts connections so the accept loop knows when to stop."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = 0
        self.finished = 0
        self.last_activity = time.monotonic()

    def opened(self):
        with self.lock:
            self.active += 1
            self.last_activity = time.monotonic()

    def closed(self):
        with self.lock:
            self.active -= 1
            self.finished += 1
            self.last_activity = time.monotonic()

    def snapshot(self):
        with self.lock:
            return self.active, self.finished, self.last_activity


def serve_cut(flavour, conn, number, cut):
    """--reply cut: reads one document, sends back only the first `cut` bytes of its echo,
    and closes the connection (a server that dies in the middle of a reply)."""
    frame = flavour.recv_frame(conn)
    if frame is None:
        return 0
    reply = flavour.encode(flavour.decode(frame))
    conn.sendall(reply[:cut])
    time.sleep(0.1)
    log("connection %d: sent %d of the %d bytes of the reply, closing" % (number, min(cut, len(reply)), len(reply)))
    return 1


def serve_connection(flavour, conn, number, state, args):
    count = 0
    try:
        conn.settimeout(args.timeout)
        if args.reply == "cut":
            count = serve_cut(flavour, conn, number, args.cut)
        else:
            # Bounded: a connection serves at most this many documents.
            while count < args.max_documents:
                if not flavour.serve_one(conn):
                    break
                count += 1
            log("connection %d: closed by the client after %d documents" % (number, count))
    except Exception as error:  # report and drop the connection; keep serving others
        log("connection %d: error after %d documents: %s: %s" % (number, count, type(error).__name__, error))
    finally:
        try:
            conn.close()
        finally:
            state.closed()


def run_server(flavour, args):
    if args.unix:
        # A stale socket file from an earlier run goes; any other file is left alone (bind fails).
        if os.path.exists(args.unix) and stat.S_ISSOCK(os.lstat(args.unix).st_mode):
            os.unlink(args.unix)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(args.unix)
        where = args.unix
    else:
        check_loopback(args.host)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port or 0))
        host, port = listener.getsockname()[:2]
        where = "%s:%d" % (host, port)
    listener.listen(64)
    listener.settimeout(0.1)

    # SIGTERM (how the tests stop us) runs the cleanup below instead of dying mid-way.
    def on_term(signum, frame):
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)

    sys.stdout.write("listening on %s\n" % where)
    sys.stdout.flush()

    state = ServerState()
    started = time.monotonic()
    accepted = 0
    try:
        while True:
            active, finished, last = state.snapshot()
            now = time.monotonic()
            if args.max_connections and finished >= args.max_connections and active == 0:
                log("served %d connections; exiting" % finished)
                break
            if active == 0 and now - last > args.idle_timeout:
                log("idle for %.1f s; exiting" % args.idle_timeout)
                break
            if now - started > args.lifetime:
                log("lifetime of %.0f s reached; exiting" % args.lifetime)
                break
            if args.max_connections and accepted >= args.max_connections:
                time.sleep(0.05)
                continue
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            accepted += 1
            state.opened()
            thread = threading.Thread(
                target=serve_connection, args=(flavour, conn, accepted, state, args), daemon=True)
            thread.start()
    finally:
        listener.close()
        if args.unix and os.path.exists(args.unix):
            os.unlink(args.unix)
    return 0


# --------------------------------------------------------------------------------------
# Client modes.
# --------------------------------------------------------------------------------------

def exchange(flavour, sock, name, doc, args, index, suite, mode):
    """Sends one document, reads the reply and returns the report (a dict with "ok")."""
    record = {"flavour": flavour.name, "mode": mode, "suite": suite, "index": index, "name": name}
    sent = flavour.encode(doc)
    record.update(bytes_report("sent", sent, args.hex_limit if mode == "emit" else -1))
    if len(sent) <= args.hex_limit and mode == "emit":
        record["sent_canon"] = canon(flavour.decode(sent), flavour)
    flavour.send_doc(sock, doc)
    if getattr(args, "no_reply", False):
        record["ok"] = True
        return record
    reply = flavour.recv_frame(sock)
    if reply is None:
        record.update(ok=False, closed=True, error="connection closed before the reply")
        return record
    record["reply_len"] = len(reply)
    record["bytes_equal"] = reply == sent
    try:
        expected = canon(flavour.decode(sent), flavour)
        actual = canon(flavour.decode(reply), flavour)
    except Exception as error:
        record.update(ok=False, error="decoding failed: %s: %s" % (type(error).__name__, error))
        return record
    record["equal"] = expected == actual
    record["ok"] = record["equal"] and (record["bytes_equal"] or not args.exact)
    if not record["ok"] and len(reply) <= DEFAULT_HEX_LIMIT:
        record["reply_hex"] = reply.hex()
        record["sent_hex"] = sent.hex() if len(sent) <= DEFAULT_HEX_LIMIT else None
        record["expected_canon"] = expected
        record["reply_canon"] = actual
    return record


def run_suite(flavour, args, suite, mode):
    builders = flavour.suites()
    if suite not in builders:
        raise PeerError("unknown suite %r (have: %s)" % (suite, ", ".join(sorted(builders))))
    documents = builders[suite]()
    failures = 0
    with connect(args) as sock:
        for index, (name, doc) in enumerate(documents):
            try:
                record = exchange(flavour, sock, name, doc, args, index, suite, mode)
            except Exception as error:
                record = {"flavour": flavour.name, "mode": mode, "suite": suite, "index": index,
                          "name": name, "ok": False, "error": "%s: %s" % (type(error).__name__, error)}
                emit_line(record)
                failures += 1
                break  # the stream may be out of step; stop here
            emit_line(record)
            failures += 0 if record["ok"] else 1
            if record.get("closed"):
                break  # the server hung up; the rest of the suite cannot be exchanged
    log("%s %s %s: %d documents, %d failed" % (flavour.name, mode, suite, len(documents), failures))
    return 0 if failures == 0 else 1


def run_pipeline(flavour, args):
    count = args.count
    if not 0 < count <= MAX_PIPELINE:
        raise PeerError("pipeline count must be 1...%d" % MAX_PIPELINE)
    documents = [pipeline_document(i, args.vary, flavour.binary_factory()) for i in range(count)]
    frames = [flavour.encode(doc) for doc in documents]
    failures = 0
    with connect(args) as sock:

        def send_all():
            if args.one_write:
                sock.sendall(b"".join(frames))
            else:
                for doc in documents:
                    flavour.send_doc(sock, doc)

        sender = None
        if args.vary:
            # Megabytes in flight: send on a thread while replies are read, or both sides
            # could block on full socket buffers.
            sender = threading.Thread(target=send_all, daemon=True)
            sender.start()
        else:
            send_all()
        for index, frame in enumerate(frames):
            reply = flavour.recv_frame(sock)
            ok = reply is not None and canon(flavour.decode(reply), flavour) == canon(flavour.decode(frame), flavour)
            ok = ok and (reply == frame or not args.exact)
            record = {"flavour": flavour.name, "mode": "pipeline", "index": index, "name": "seq-%d" % index,
                      "ok": ok, "bytes_equal": reply == frame, "sent_len": len(frame)}
            if reply is None:
                record["error"] = "connection closed before reply %d" % index
            emit_line(record)
            if reply is None:
                failures += count - index
                break
            failures += 0 if ok else 1
        if sender is not None:
            sender.join(args.timeout)
    log("%s pipeline: %d documents, %d failed" % (flavour.name, count, failures))
    return 0 if failures == 0 else 1


def run_big(flavour, args):
    doc = big_document(args.size, args.kind, flavour.binary_factory())
    failures = 0
    with connect(args) as sock:
        name = "%s-%d" % (args.kind, args.size)
        for repeat in range(args.repeat):
            try:
                record = exchange(flavour, sock, name, doc, args, repeat, "big", "big")
            except Exception as error:
                record = {"flavour": flavour.name, "mode": "big", "index": repeat, "name": name, "ok": False,
                          "error": "%s: %s" % (type(error).__name__, error)}
            emit_line(record)
            failures += 0 if record["ok"] else 1
            if "error" in record:
                break
    return 0 if failures == 0 else 1


def run_close_mid_frame(flavour, args):
    """Optionally exchanges some whole documents, then sends the first `--cut` bytes of a
    document (its header announces the full length) and closes the connection."""
    doc = {"partial": "this document is cut short", "pad": "x" * 200}
    frame = flavour.encode(doc)
    cut = args.cut
    if not 0 < cut < len(frame):
        raise PeerError("--cut must be 1...%d" % (len(frame) - 1))
    with connect(args) as sock:
        for index in range(args.before):
            record = exchange(flavour, sock, "before-%d" % index, pipeline_document(index), args, index,
                              "close-mid-frame", "close-mid-frame")
            emit_line(record)
            if not record["ok"]:
                return 1
        sock.sendall(frame[:cut])
        # Let the bytes leave before the close, so the server sees data and then EOF.
        time.sleep(args.linger)
    emit_line({"flavour": flavour.name, "mode": "close-mid-frame", "ok": True,
               "announced": len(frame), "sent": cut})
    return 0


def run_print_suite(flavour, args):
    """Prints a suite's documents offline (no network): name, hex, canonical form."""
    builders = flavour.suites()
    if args.suite not in builders:
        raise PeerError("unknown suite %r (have: %s)" % (args.suite, ", ".join(sorted(builders))))
    for index, (name, doc) in enumerate(builders[args.suite]()):
        data = flavour.encode(doc)
        record = {"flavour": flavour.name, "suite": args.suite, "index": index, "name": name}
        record.update(bytes_report("sent", data, args.hex_limit))
        if len(data) <= args.hex_limit:
            record["sent_canon"] = canon(flavour.decode(data), flavour)
        emit_line(record)
    return 0


# --------------------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------------------

def add_target(parser):
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port to connect to")
    parser.add_argument("--unix", metavar="PATH", help="Unix-domain socket path instead of TCP")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-operation socket timeout, s (30)")
    parser.add_argument("--hex-limit", type=int, default=DEFAULT_HEX_LIMIT,
                        help="print hex only for documents up to this many bytes (65536)")
    parser.add_argument("--exact", action="store_true",
                        help="a reply passes only when its bytes equal what was sent")


def build_parser(flavour):
    parser = argparse.ArgumentParser(
        prog=os.path.basename(sys.argv[0]),
        description="%s interop peer for swift-bson-socket" % flavour.name)
    modes = parser.add_subparsers(dest="mode", required=True)

    server = modes.add_parser("server", help="echo server")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    server.add_argument("--unix", metavar="PATH")
    server.add_argument("--reply", default="echo", choices=["echo", "cut"],
                        help="echo (default), or cut: answer the first document with only the "
                             "first --cut bytes of its echo, then close")
    server.add_argument("--cut", type=int, default=10, help="bytes of the reply sent with --reply cut (10)")
    server.add_argument("--timeout", type=float, default=30.0, help="per-connection socket timeout, s (30)")
    server.add_argument("--idle-timeout", type=float, default=30.0,
                        help="exit after this long with no connection, s (30)")
    server.add_argument("--max-connections", type=int, default=0,
                        help="exit after serving this many connections (0: no limit)")
    server.add_argument("--max-documents", type=int, default=100_000, help="per connection (100000)")
    server.add_argument("--lifetime", type=float, default=600.0, help="exit after this long in any case, s (600)")

    client = modes.add_parser("client", help="send a suite, check every echo")
    add_target(client)
    client.add_argument("--suite", required=True)

    emit = modes.add_parser("emit", help="send a suite and print exactly what was sent")
    emit.add_argument("suite")
    add_target(emit)
    emit.add_argument("--no-reply", action="store_true", help="do not wait for replies")

    pipeline = modes.add_parser("pipeline", help="send N documents before reading any reply")
    pipeline.add_argument("count", type=int)
    add_target(pipeline)
    pipeline.add_argument("--one-write", action="store_true", help="all N frames in one sendall")
    pipeline.add_argument("--vary", action="store_true",
                          help="document i carries (i*7919) %% 150001 payload bytes; sent from a thread")

    big = modes.add_parser("big", help="one document of exactly SIZE bytes")
    big.add_argument("size", type=int)
    add_target(big)
    big.add_argument("--kind", choices=["binary", "string"], default="binary")
    big.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="1..10")

    cut = modes.add_parser("close-mid-frame", help="send part of a frame, then close")
    add_target(cut)
    cut.add_argument("--cut", type=int, default=14, help="bytes of the frame to send (default 14)")
    cut.add_argument("--before", type=int, default=0, choices=range(0, 101), metavar="0..100",
                     help="whole documents exchanged first (default 0)")
    cut.add_argument("--linger", type=float, default=0.2, help="pause before closing, s (0.2)")

    show = modes.add_parser("print-suite", help="print a suite's documents without any network")
    show.add_argument("suite")
    show.add_argument("--hex-limit", type=int, default=DEFAULT_HEX_LIMIT)

    modes.add_parser("list-suites", help="print the suite names")
    flavour.add_modes(modes)
    return parser


def main(flavour, argv=None):
    # A child started by Foundation's Process from a Swift test inherits a signal mask with
    # every signal blocked, so SIGTERM (how the tests stop a server) would stay pending
    # until SIGKILL. Unblock the ones we rely on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    args = build_parser(flavour).parse_args(argv)
    try:
        if args.mode == "server":
            return run_server(flavour, args)
        if args.mode == "client":
            return run_suite(flavour, args, args.suite, "client")
        if args.mode == "emit":
            return run_suite(flavour, args, args.suite, "emit")
        if args.mode == "pipeline":
            return run_pipeline(flavour, args)
        if args.mode == "big":
            return run_big(flavour, args)
        if args.mode == "close-mid-frame":
            return run_close_mid_frame(flavour, args)
        if args.mode == "print-suite":
            return run_print_suite(flavour, args)
        if args.mode == "list-suites":
            for name in sorted(flavour.suites()):
                print(name)
            return 0
        status = flavour.run_mode(args)
        if status is not None:
            return status
    except (PeerError, OSError) as error:
        log("%s %s: %s: %s" % (flavour.name, args.mode, type(error).__name__, error))
        return 2
    return 2
