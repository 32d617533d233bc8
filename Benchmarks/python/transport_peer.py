"""The Python side of the transport benchmark (driven by ../compare_transport.py).

Run it with the interpreter of one of the two virtual environments; both libraries own the
module name `bson`, so the flavour must match the environment:

    .venv-pybson/bin/python  transport_peer.py pybson  serve SMALL_FILE
    .venv-pymongo/bin/python transport_peer.py pymongo serve SMALL_FILE
    ... transport_peer.py FLAVOUR once ADDRESS SET COUNT     one receive, no warm-up (perf stat)
    ... transport_peer.py FLAVOUR echo-server                prints "port N"; runs until stdin ends

`serve` answers one JSON line per stdin line:

    recv obj ADDRESS SET COUNT WARMUP     one timed receive of COUNT documents after WARMUP
    verify obj ADDRESS SET COUNT OUTPUT   receives COUNT documents, writes each re-encoded
    ping ADDRESS COUNT WARMUP             ping-pong client: round-trip times in ns
    mem COUNT WARMUP                      the library's decode over the set in memory, no socket

How each flavour receives (what the benchmark compares):

  pybson   the seed's own API: bson.patch_socket(), then sock.recvobj() (py-bson's
           recvbytes(4), then recvbytes(length - 4) in recv calls of at most 32 KiB into a
           BytesIO, then bson.loads) and sock.sendobj(doc)
  pymongo  pymongo has no socket helpers, so the framing is written here, the way one would
           write it in Python: recv the 4-byte header exactly, then recv_into one bytearray
           in calls of at most 32 KiB; then bson.decode (pymongo's C extension). Sending is
           sock.sendall(bson.encode(doc)).

Sockets are blocking with no Python-level timeout (a timeout would add a poll() before every
recv); SO_RCVTIMEO and SO_SNDTIMEO of 30 s bound every call instead. TCP_NODELAY is on.
"""

import json
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True

FLAVOUR = sys.argv[1] if len(sys.argv) > 1 else ""
if FLAVOUR not in ("pybson", "pymongo"):
    sys.exit("usage: transport_peer.py pybson|pymongo serve SMALL_FILE | once ADDRESS SET COUNT | echo-server")

import bson  # noqa: E402  (the flavour's library, from the running virtual environment)

MAX_FRAME = 16 * 1024 * 1024 + 16 * 1024
RECV_CHUNK = 32 * 1024
TIMEOUT = struct.pack("ll", 30, 0)

if FLAVOUR == "pybson":
    if not hasattr(bson, "patch_socket"):
        sys.exit("transport_peer: this environment's bson is not py-bson")
    bson.patch_socket()
    encode, decode = bson.dumps, bson.loads

    def recv_doc(sock):
        return sock.recvobj()

    def send_doc(sock, doc):
        sock.sendobj(doc)
else:
    if not hasattr(bson, "has_c") or not bson.has_c():
        sys.exit("transport_peer: pymongo's C extension (bson._cbson) is not loaded")
    encode, decode = bson.encode, bson.decode

    def recv_frame(sock):
        """One frame by exact reads; None on a clean close between frames."""
        header = sock.recv(4)
        if len(header) < 4:
            if not header:
                return None
            while len(header) < 4:
                more = sock.recv(4 - len(header))
                if not more:
                    raise EOFError("connection closed inside a frame header")
                header += more
        (length,) = struct.unpack("<i", header)
        if length < 5 or length > MAX_FRAME:
            raise ValueError("frame header announces %d bytes" % length)
        frame = bytearray(length)
        frame[:4] = header
        view = memoryview(frame)
        got = 4
        while got < length:
            received = sock.recv_into(view[got:], min(length - got, RECV_CHUNK))
            if not received:
                raise EOFError("connection closed inside a frame")
            got += received
        return frame

    def recv_doc(sock):
        frame = recv_frame(sock)
        return None if frame is None else decode(frame)

    def send_doc(sock, doc):
        sock.sendall(encode(doc))


def configure(sock, tcp):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, TIMEOUT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, TIMEOUT)
    if tcp:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect(address):
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address[5:])
        configure(sock, False)
    else:
        _, host, port = address.split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.connect((host, int(port)))
        configure(sock, True)
    return sock


def open_stream(address, set_index, count):
    sock = connect(address)
    sock.sendall(struct.pack("<II", set_index, count))
    return sock


def receive(address, set_index, count, warmup):
    """(wall ns, this thread's CPU ns) for `count` documents after `warmup` untimed."""
    sock = open_stream(address, set_index, warmup + count)
    try:
        for index in range(warmup):
            if recv_doc(sock) is None:
                raise EOFError("the stream ended after %d warm-up documents" % index)
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        for index in range(count):
            if recv_doc(sock) is None:
                raise EOFError("the stream ended after %d timed documents" % index)
        elapsed, elapsed_cpu = time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu
        if recv_doc(sock) is not None:
            raise ValueError("the sender sent more than %d documents" % (warmup + count))
        return elapsed, elapsed_cpu
    finally:
        sock.close()


def verify(address, set_index, count, output):
    """Receives `count` documents and writes each one encoded again by the library."""
    sock = open_stream(address, set_index, count)
    try:
        with open(output, "wb") as handle:
            for index in range(count):
                doc = recv_doc(sock)
                if doc is None:
                    raise EOFError("the stream ended after %d documents" % index)
                handle.write(encode(doc))
        if recv_doc(sock) is not None:
            raise ValueError("the sender sent more than %d documents" % count)
    finally:
        sock.close()


def load_frames(path):
    with open(path, "rb") as handle:
        data = handle.read()
    frames, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<i", data, offset)
        frames.append(data[offset:offset + length])
        offset += length
    return frames


def ping(address, documents, count, warmup):
    """Round-trip times (ns) of `count` exchanges after `warmup`: send one document, wait for
    the echo. Each echo is compared with what was sent, outside the timed part."""
    sock = connect(address)
    samples = []
    try:
        for index in range(warmup + count):
            doc = documents[index % len(documents)]
            start = time.perf_counter_ns()
            send_doc(sock, doc)
            reply = recv_doc(sock)
            end = time.perf_counter_ns()
            if index >= warmup:
                samples.append(end - start)
            if reply != doc:
                raise ValueError("exchange %d: the echo differs" % index)
    finally:
        sock.close()
    return samples


def decode_from_memory(frames, count, warmup):
    """The decode alone, over the frames in memory (cycling), no socket."""
    total = len(frames)
    for index in range(warmup):
        decode(frames[index % total])
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    for index in range(count):
        decode(frames[index % total])
    return time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu


def serve(small_path):
    frames = load_frames(small_path)
    documents = [decode(frame) for frame in frames]
    for _ in range(1_000_000):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            return
        words = line.split()
        try:
            if len(words) == 6 and words[0] == "recv" and words[1] == "obj":
                count, warmup = int(words[4]), int(words[5])
                ns, cpu_ns = receive(words[2], int(words[3]), count, warmup)
                record = {"side": FLAVOUR, "task": "obj", "docs": count, "ns": ns, "cpu_ns": cpu_ns}
            elif len(words) == 3 and words[0] == "mem":
                count, warmup = int(words[1]), int(words[2])
                ns, cpu_ns = decode_from_memory(frames, count, warmup)
                record = {"side": FLAVOUR, "task": "mem", "docs": count, "ns": ns, "cpu_ns": cpu_ns}
            elif len(words) == 6 and words[0] == "verify" and words[1] == "obj":
                verify(words[2], int(words[3]), int(words[4]), words[5])
                record = {"side": FLAVOUR, "task": "verify-obj", "ok": True}
            elif len(words) == 4 and words[0] == "ping":
                samples = ping(words[1], documents, int(words[2]), int(words[3]))
                record = {"side": FLAVOUR, "task": "ping", "samples_ns": samples}
            else:
                raise ValueError("bad request")
        except Exception as error:  # reported to the driver, which stops the run
            record = {"error": "%s: %s: %s" % (line.strip(), type(error).__name__, error)}
        print(json.dumps(record), flush=True)


def echo_server():
    """Echoes documents on 127.0.0.1, one connection at a time, until stdin ends: py-bson's
    recvobj/sendobj, or pymongo's decode/encode around our Python framing."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print("port %d" % listener.getsockname()[1], flush=True)
    for _ in range(1_000_000):
        ready, _, _ = select.select([sys.stdin, listener], [], [], 1.0)
        if sys.stdin in ready and not sys.stdin.readline():
            return
        if listener in ready:
            sock, _ = listener.accept()
            configure(sock, True)
            try:
                for _ in range(100_000_000):
                    doc = recv_doc(sock)
                    if doc is None:
                        break
                    send_doc(sock, doc)
            except (OSError, EOFError, ValueError) as error:
                print("transport_peer: echo connection ended: %s" % error, file=sys.stderr)
            finally:
                sock.close()


def main():
    args = sys.argv[2:]
    if len(args) == 2 and args[0] == "serve":
        serve(args[1])
    elif len(args) == 4 and args[0] == "once":
        ns, _ = receive(args[1], int(args[2]), int(args[3]), 0)
        print(json.dumps({"side": FLAVOUR, "task": "obj", "ns": ns}))
    elif len(args) == 1 and args[0] == "echo-server":
        echo_server()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
