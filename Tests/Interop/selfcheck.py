#!/usr/bin/env python3
"""Self-check of the Python interop peers, before any Swift code relies on them.

Runs every flavour's client against every flavour's echo server, over TCP on 127.0.0.1
and over a Unix socket in a temporary directory, and checks the results line by line.
Needs only the standard library; the peers themselves run under their own interpreters:

    python3 Tests/Interop/selfcheck.py [--pybson PYTHON] [--pymongo PYTHON] [--quick]

The interpreters default to $BSON_SOCKET_PYBSON / $BSON_SOCKET_PYMONGO (what `make test`
sets), else the .venv-pybson / .venv-pymongo environments at the package root.
Every child process has a timeout; the whole run is bounded. Exit status 0 when every
check passed.
"""

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = {"pybson": os.path.join(HERE, "pybson_peer.py"), "pymongo": os.path.join(HERE, "pymongo_peer.py")}
CHILD_TIMEOUT = 120.0
TOTAL_TIMEOUT = 900.0
EIGHT_MIB = 8 * 1024 * 1024


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.started = time.monotonic()

    def check(self, condition, label, detail=""):
        if condition:
            self.passed += 1
            print("ok    " + label, flush=True)
        else:
            self.failed.append(label)
            print("FAIL  " + label + (("\n      " + detail) if detail else ""), flush=True)
        if time.monotonic() - self.started > TOTAL_TIMEOUT:
            raise SystemExit("self-check exceeded %.0f s" % TOTAL_TIMEOUT)


class Server:
    """An echo peer running as a child process; stop() always ends it."""

    def __init__(self, python, flavour, unix_path=None, extra=()):
        command = [python, "-B", PEERS[flavour], "server", "--idle-timeout", "60", "--lifetime", "600"]
        command += list(extra)
        command += ["--unix", unix_path] if unix_path else ["--host", "127.0.0.1", "--port", "0"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process.stdout, lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_lines.append),
                         daemon=True).start()
        try:
            first = lines.get(timeout=15)
        except queue.Empty:
            self.stop()
            raise RuntimeError("%s server printed no 'listening on' line within 15 s" % flavour)
        prefix = "listening on "
        if not first.startswith(prefix):
            self.stop()
            raise RuntimeError("%s server's first line was %r" % (flavour, first))
        self.address = first[len(prefix):].strip()
        if unix_path:
            self.target = ["--unix", unix_path]
        else:
            host, port = self.address.rsplit(":", 1)
            self.target = ["--host", host, "--port", port]

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def run_peer(python, flavour, arguments):
    """Runs a client-side mode; returns (exit status, parsed JSON lines, stderr)."""
    command = [python, "-B", PEERS[flavour]] + arguments
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, [], "timed out after %.0f s" % CHILD_TIMEOUT
    records = []
    for line in done.stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"unparsed": line})
    return done.returncode, records, done.stderr


def suite_names(python, flavour, suite):
    status, records, stderr = run_peer(python, flavour, ["print-suite", suite, "--hex-limit", "0"])
    if status != 0:
        raise RuntimeError("print-suite %s failed: %s" % (suite, stderr))
    return [record["name"] for record in records]


def failed_names(records):
    return [record.get("name", "?") for record in records if not record.get("ok")]


def tagged_document(fields, class_name):
    """BSON bytes of a document of string fields plus py-bson's class-name field, written by
    hand (this script imports no bson module)."""
    def element(key, value):
        text = value.encode("utf-8") + b"\x00"
        return b"\x02" + key.encode("utf-8") + b"\x00" + len(text).to_bytes(4, "little") + text
    body = b"".join(element(k, v) for k, v in fields) + element("$$__CLASS_NAME__$$", class_name)
    return (len(body) + 5).to_bytes(4, "little") + body + b"\x00"


def check_classes_recv(checker, python):
    """classes-recv from-swift, fed by a listener here with the bytes py-bson itself writes
    for the classes suite, a document tagged with a class py-bson does not know, and a point."""
    status, records, stderr = run_peer(python, "pybson", ["print-suite", "classes"])
    frames = [bytes.fromhex(record["sent_hex"]) for record in records]
    _, unregistered, _ = run_peer(python, "pybson", ["print-suite", "unregistered"])
    frames.append(tagged_document([("note", "swift")], "SwiftOnly"))
    frames.append(bytes.fromhex(unregistered[-1]["sent_hex"]))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)

    def feed():
        try:
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"".join(frames))
                connection.settimeout(30)
                connection.recv(1)  # until the peer hangs up
        except OSError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    port = listener.getsockname()[1]
    status, records, stderr = run_peer(python, "pybson", ["classes-recv", "from-swift", "--port", str(port)])
    feeder.join(30)
    listener.close()
    checker.check(
        status == 0 and len(records) == 7 and all(record.get("ok") for record in records)
        and [record.get("class") for record in records][:3] == ["Point", "Polygon", "Reading"]
        and "MissingClassDefinition" in records[5].get("error", ""),
        "pybson classes-recv from-swift: instances, then MissingClassDefinition, then in step",
        "status %s, failed %s, stderr %s" % (status, failed_names(records), stderr[-500:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pybson", default=os.environ.get("BSON_SOCKET_PYBSON")
                        or os.path.join(ROOT, ".venv-pybson", "bin", "python"))
    parser.add_argument("--pymongo", default=os.environ.get("BSON_SOCKET_PYMONGO")
                        or os.path.join(ROOT, ".venv-pymongo", "bin", "python"))
    parser.add_argument("--quick", action="store_true", help="skip the 8 MiB documents and the sizes suite")
    args = parser.parse_args()
    pythons = {"pybson": args.pybson, "pymongo": args.pymongo}
    for flavour, python in pythons.items():
        if not os.access(python, os.X_OK):
            print("no %s interpreter at %s: run `make venvs` (or `make test`)" % (flavour, python))
            return 2

    checker = Checker()
    names = {(f, s): suite_names(pythons[f], f, s) for f in pythons for s in ("basic", "types", "sizes")}

    with tempfile.TemporaryDirectory(prefix="bson-interop-") as scratch:
        for server_flavour in pythons:
            for transport in ("tcp", "unix"):
                unix_path = os.path.join(scratch, "%s.sock" % server_flavour) if transport == "unix" else None
                server = Server(pythons[server_flavour], server_flavour, unix_path)
                where = "%s server over %s" % (server_flavour, transport)
                expected = unix_path if unix_path else "127.0.0.1:"
                checker.check(server.address.startswith(expected),
                              "%s: first line is 'listening on %s'" % (where, expected + ("" if unix_path else "PORT")),
                              server.address)
                try:
                    for client_flavour in pythons:
                        python = pythons[client_flavour]
                        same = client_flavour == server_flavour
                        suites = ["types", "basic"] if same else ["basic"]
                        if same and not args.quick:
                            suites.append("sizes")
                        for suite in suites:
                            status, records, stderr = run_peer(
                                python, client_flavour, ["client", "--suite", suite, "--exact"] + server.target)
                            got = [record.get("name") for record in records]
                            checker.check(
                                status == 0 and got == names[(client_flavour, suite)]
                                and all(record.get("ok") and record.get("bytes_equal") for record in records),
                                "%s: %s client, suite %s, every echo byte-exact" % (where, client_flavour, suite),
                                "status %s, failed %s, stderr %s" % (status, failed_names(records), stderr[-500:]))
                        status, records, stderr = run_peer(
                            python, client_flavour, ["emit", "basic"] + server.target)
                        checker.check(
                            status == 0 and all("sent_hex" in record for record in records)
                            and [record["name"] for record in records] == names[(client_flavour, "basic")],
                            "%s: %s emit basic prints the hex of every document" % (where, client_flavour),
                            stderr[-500:])
                        for extra in ([], ["--one-write"], ["--vary"], ["--vary", "--one-write"]):
                            status, records, stderr = run_peer(
                                python, client_flavour, ["pipeline", "100", "--exact"] + extra + server.target)
                            checker.check(
                                status == 0 and len(records) == 100
                                and [record["index"] for record in records] == list(range(100))
                                and all(record["ok"] and record["bytes_equal"] for record in records),
                                "%s: %s pipeline 100 %s" % (where, client_flavour, " ".join(extra)),
                                "status %s, failed %s, stderr %s" % (status, failed_names(records), stderr[-500:]))
                        if same and not args.quick:
                            for kind in ("binary", "string"):
                                status, records, stderr = run_peer(
                                    python, client_flavour,
                                    ["big", str(EIGHT_MIB), "--kind", kind, "--exact"] + server.target)
                                checker.check(
                                    status == 0 and len(records) == 1 and records[0]["ok"]
                                    and records[0]["sent_len"] == EIGHT_MIB and records[0]["reply_len"] == EIGHT_MIB,
                                    "%s: %s big 8 MiB %s" % (where, client_flavour, kind), stderr[-500:])
                        # A client that gives up inside a frame must not take the server down.
                        status, records, stderr = run_peer(
                            python, client_flavour, ["close-mid-frame", "--before", "1", "--cut", "30"] + server.target)
                        checker.check(status == 0 and len(records) == 2 and records[-1]["sent"] == 30,
                                      "%s: %s close-mid-frame after one document" % (where, client_flavour),
                                      stderr[-500:])
                        status, records, stderr = run_peer(
                            python, client_flavour, ["client", "--suite", "basic", "--exact"] + server.target)
                        checker.check(status == 0 and records and all(record["ok"] for record in records),
                                      "%s: still serving after %s closed mid-frame" % (where, client_flavour),
                                      stderr[-500:])

                    # The checks can fail: pymongo's own types through py-bson come back wrong.
                    if server_flavour == "pybson":
                        status, records, stderr = run_peer(
                            pythons["pymongo"], "pymongo", ["client", "--suite", "types"] + server.target)
                        wrong = failed_names(records)
                        checker.check(
                            status == 1 and wrong == ["objectid", "int64-forced", "decimal128"]
                            and records[-1].get("closed"),
                            "%s: pymongo types through py-bson fail as they must (hang-up at decimal128)" % where,
                            "status %s, failed %s" % (status, wrong))
                        print("      (py-bson mangled: %s)" % ", ".join(wrong), flush=True)
                        # BSONCoding objects through the py-bson echo: instances again, same bytes.
                        status, records, stderr = run_peer(
                            pythons["pybson"], "pybson", ["classes-send", "classes", "--exact"] + server.target)
                        checker.check(
                            status == 0 and [record.get("reply_class") for record in records]
                            == ["Point", "Polygon", "Reading", "dict", "dict"]
                            and all(record.get("ok") and record.get("bytes_equal") for record in records),
                            "%s: pybson classes-send classes, every object back as itself" % where,
                            "status %s, failed %s, stderr %s" % (status, failed_names(records), stderr[-500:]))
                finally:
                    server.stop()
                logged = any("closed by the client" in line for line in server.stderr_lines)
                checker.check(logged, "%s: server logged the connections it served" % where,
                              "\n      ".join(server.stderr_lines[-5:]))

        # A server that closes inside its reply. Inside the body, both clients report a
        # truncated frame. Inside the 4-byte header, py-bson's recvbytes returns None just as
        # for a clean close (it cannot tell them apart); our pymongo framing can.
        for server_flavour, server_python in pythons.items():
            for cut in (3, 12):
                cutting = Server(server_python, server_flavour, extra=["--reply", "cut", "--cut", str(cut)])
                try:
                    for client_flavour, python in pythons.items():
                        status, records, stderr = run_peer(
                            python, client_flavour, ["big", "1024"] + cutting.target)
                        error = records[0].get("error", "") if len(records) == 1 else ""
                        header_blind = client_flavour == "pybson" and cut < 4
                        expected = "connection closed before the reply" if header_blind else "Truncated"
                        checker.check(
                            status == 1 and expected in error,
                            "%s server --reply cut --cut %d: %s client reports %r"
                            % (server_flavour, cut, client_flavour, expected),
                            "status %s, records %s, stderr %s" % (status, records, stderr[-300:]))
                finally:
                    cutting.stop()

        check_classes_recv(checker, pythons["pybson"])

        # A server told to serve one connection exits on its own afterwards.
        for flavour, python in pythons.items():
            limited = Server(python, flavour, extra=["--max-connections", "1"])
            try:
                status, _, _ = run_peer(python, flavour, ["client", "--suite", "basic"] + limited.target)
                limited.process.wait(timeout=10)
                checker.check(status == 0 and limited.process.returncode == 0,
                              "%s server --max-connections 1 exits after its connection" % flavour)
            except subprocess.TimeoutExpired:
                checker.check(False, "%s server --max-connections 1 exits after its connection" % flavour)
            finally:
                limited.stop()

    print("%d passed, %d failed (%.1f s)" % (checker.passed, len(checker.failed), time.monotonic() - checker.started))
    return 0 if not checker.failed else 1


if __name__ == "__main__":
    sys.exit(main())
