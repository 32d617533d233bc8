#!/usr/bin/env python3
"""py-bson (PyPI `bson` 0.5.10) interop peer for swift-bson-socket.

Run it with the interpreter of the py-bson virtual environment (.venv-pybson, or the
BSON_SOCKET_PYBSON variable that `make test` sets). It uses the library the way its users
do: `bson.patch_socket()` and the methods it adds to sockets (`sendobj`, `recvobj`,
`recvbytes`), and `bson.dumps`/`bson.loads`.

    python pybson_peer.py server --host 127.0.0.1 --port 0 --reply echo
    python pybson_peer.py server --unix /tmp/dir/peer.sock
    python pybson_peer.py client --port PORT --suite types [--exact]
    python pybson_peer.py emit types --port PORT
    python pybson_peer.py pipeline 100 --port PORT [--one-write] [--vary]
    python pybson_peer.py big 8388608 --port PORT [--kind string]
    python pybson_peer.py close-mid-frame --port PORT [--cut 14] [--before 1]
    python pybson_peer.py print-suite types
    python pybson_peer.py server --port 0 --reply cut --cut 12   (a reply cut short)
    python pybson_peer.py classes-send classes --port PORT [--no-reply] [--exact]
    python pybson_peer.py classes-recv from-swift --port PORT

Suites: basic, types, sizes, invalid (a non-UTF-8 bytes key, which py-bson writes as is),
classes and unregistered (py-bson BSONCoding objects, below).

Class tags (py-bson's BSONCoding): an object whose class derives from bson.BSONCoding is
written as the dict its bson_encode() returns plus "$$__CLASS_NAME__$$": the class's
__name__, added last, at any depth (top level, inside dicts, inside lists). Reading, every
document with that key becomes an instance of the class registered under the name with
bson.import_class (innermost first, made without __init__ and filled by bson_init), or
raises MissingClassDefinition. The classes below (Point, Polygon, Reading, Mystery) are
registered at import, so the echo server turns tagged documents into instances and writes
them back as py-bson writes them.

  classes-send SUITE    sends each object of a class suite with sock.sendobj; unless
                        --no-reply, reads the reply, loads it (tags become instances) and
                        checks it against the object sent: same classes, same fields
                        ("equal"), and with --exact also the bytes py-bson writes for it.
  classes-recv SUITE    receives one frame per entry of the suite (from-swift: what the
                        Swift tests send), loads it, and checks the instance against the
                        entry; an entry MissingClass(name) expects MissingClassDefinition.
                        One JSON line per entry; exit 0 only when every entry matched.

What py-bson 0.5.10 writes and reads (found in its codec.py, checked by running it):

  Python value               wire                                   decoded back as
  bool                       0x08                                   bool
  int in int32 range         0x10                                   int
  int in int64 range         0x12                                   int
  int in 2^63 ... 2^64-1     0x11 (unsigned little-endian word)     int
  int >= 2^64                raises Exception (nothing sent)        -
  float                      0x01 (bits kept: nan, inf, -0.0)       float
  decimal.Decimal            0x01 float(value) -- lossy             float
  str                        0x02 (NUL and any UTF-8 allowed)       str
  bytes                      0x05 subtype 0                         bytes
  uuid.UUID                  0x05 subtype 4, RFC 4122 byte order    uuid.UUID (subtypes 3 and 4)
  datetime                   0x09 ms, see below                     aware datetime (dateutil tzutc)
  None                       0x0A                                   None
  dict                       0x03 (insertion order)                 dict
  list, tuple                0x04                                   list
  dict keys                  str(key) as UTF-8; NUL -> ValueError   str (bytes if not UTF-8)
  anything else (ObjectId!)  UnknownSerializerError                 -

Datetimes: a naive datetime is taken as UTC (with a MissingTimezoneWarning, silenced
here); an aware one is converted to UTC. Milliseconds are
`int(round(timegm(utctimetuple) * 1000 + microsecond / 1000.0))`: Python's round() is
half-to-even, so 1.5 ms -> 2, 2.5 ms -> 2, and the microseconds can carry into the next
second (and 9999-12-31T23:59:59.999999 becomes a value py-bson cannot decode). Decoding
uses `datetime.fromtimestamp(ms / 1000.0, tzutc())`, so values outside years 1...9999
raise ValueError.

Reading other types: 0x07 becomes the 24 hex digits as bytes (echoed as binary subtype 0
holding 24 ASCII bytes); binary subtypes other than 3/4 lose the subtype (echoed as 0),
subtype 3 is echoed as 4, subtype 2 keeps its inner length inside the bytes; 0x06, 0x0B,
0x0C, 0x0D, 0x0E, 0x0F, 0x13, 0x7F and 0xFF have no branch in the decoder: it keeps the
previous element's value for that key and goes on reading the element's value bytes as if
they were new elements (silently wrong), or raises UnboundLocalError when the element is
the first of its document.
"""

import struct
import sys
import warnings

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import bson  # noqa: E402  (PyPI bson 0.5.10)
from bson.codec import MissingTimezoneWarning  # noqa: E402

import interop_common as common  # noqa: E402

# Naive datetimes are part of the suite on purpose; py-bson's warning about them would
# only clutter stderr, which the tests read for errors.
warnings.simplefilter("ignore", MissingTimezoneWarning)

# The "patch": socket.socket gains recvbytes, recvobj and sendobj.
bson.patch_socket()


# --------------------------------------------------------------------------------------
# BSONCoding classes: py-bson's tagged objects. bson_encode returns a fresh dict (py-bson
# adds the class-name key to it), bson_init fills an instance made without __init__.
# --------------------------------------------------------------------------------------

class Point(bson.BSONCoding):
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def bson_encode(self):
        return {"x": self.x, "y": self.y}

    def bson_init(self, raw_values):
        self.x = raw_values["x"]
        self.y = raw_values["y"]


class Polygon(bson.BSONCoding):
    """Holds other tagged objects in a list."""

    def __init__(self, name, points):
        self.name = name
        self.points = points

    def bson_encode(self):
        return {"name": self.name, "points": list(self.points)}

    def bson_init(self, raw_values):
        self.name = raw_values["name"]
        self.points = raw_values["points"]


class Reading(bson.BSONCoding):
    """One field of each kind py-bson writes from plain Python values."""

    FIELDS = ("sensor", "value", "count", "ok", "at", "tags", "raw", "ident")

    def __init__(self, **fields):
        for name in self.FIELDS:
            setattr(self, name, fields[name])

    def bson_encode(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def bson_init(self, raw_values):
        for name in self.FIELDS:
            setattr(self, name, raw_values[name])


class Mystery(bson.BSONCoding):
    """A class the Swift tests do not register."""

    def __init__(self, secret):
        self.secret = secret

    def bson_encode(self):
        return {"secret": self.secret}

    def bson_init(self, raw_values):
        self.secret = raw_values["secret"]


bson.import_classes(Point, Polygon, Reading, Mystery)


class MissingClass:
    """An expectation of classes-recv: loading the frame raises MissingClassDefinition for
    `name` (a class py-bson has not registered)."""

    def __init__(self, name):
        self.name = name


class PyBSONFlavour(common.Flavour):
    name = "pybson"

    def encode(self, doc):
        return bson.dumps(doc)

    def decode(self, data):
        return bson.loads(data)

    def send_doc(self, sock, doc):
        sock.sendobj(doc)

    def recv_frame(self, sock):
        # py-bson's own recvobj, written out with its recvbytes so that the raw bytes stay
        # visible. Two additions: the header is checked before reading on, and a close inside
        # a frame is an error (recvobj returns None for it, like a clean close).
        buffer = sock.recvbytes(4)
        if buffer is None:
            return None
        (length,) = struct.unpack("<i", buffer.getvalue())
        if length < 5 or length > common.MAX_FRAME:
            raise common.PeerError("frame header announces %d bytes" % length)
        buffer = sock.recvbytes(length - 4, buffer)
        if buffer is None:
            raise common.Truncated("connection closed inside a frame of %d bytes" % length)
        return buffer.getvalue()

    def serve_one(self, sock):
        # Exactly py-bson's seed API: recvobj (None when the peer closed) and sendobj.
        doc = sock.recvobj()
        if doc is None:
            return False
        sock.sendobj(doc)
        return True

    def suites(self):
        return {
            "basic": common.basic_suite,
            "types": types_suite,
            "sizes": common.sizes_suite,
            "invalid": invalid_suite,
            "classes": classes_suite,
            "unregistered": unregistered_suite,
        }

    def canon_special(self, value):
        # A tagged object: its class and the fields it writes (nested objects in canonical
        # form too, through canon()).
        if isinstance(value, bson.BSONCoding):
            return ["object", type(value).__name__, common.canon(value.bson_encode(), self)]
        return None

    def add_modes(self, modes):
        send = modes.add_parser("classes-send", help="send BSONCoding objects, check the replies")
        send.add_argument("suite")
        common.add_target(send)
        send.add_argument("--no-reply", action="store_true", help="do not wait for replies")
        recv = modes.add_parser("classes-recv", help="receive tagged documents, check the instances")
        recv.add_argument("suite")
        common.add_target(recv)

    def run_mode(self, args):
        if args.mode == "classes-send":
            return run_classes_send(self, args)
        if args.mode == "classes-recv":
            return run_classes_recv(self, args)
        return None


def types_suite():
    """Every type py-bson writes: the basic suite plus what only py-bson does."""
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    utc = timezone.utc
    return common.basic_suite() + [
        ("uint64", {"low": 2**63, "mid": 2**63 + 0x0123456789, "max": 2**64 - 1}),
        ("uint64-array", {"values": [2**63, 5, 2**40, 2**64 - 1]}),
        ("decimal", {"short": Decimal("1.1"), "long": Decimal("12345678901234567890.5"),
                     "neg": Decimal("-0.25")}),
        ("tuple", {"t": (1, "a", (2, 3))}),
        ("int-keys", {1: "one", 2.5: "two and a half"}),
        ("datetime-naive", {"naive": datetime(2024, 2, 29, 12, 34, 56, 789000)}),
        ("datetime-offset", {
            "plus": datetime(2024, 2, 29, 18, 4, 56, 789000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "minus": datetime(2024, 2, 29, 7, 34, 56, 789000, tzinfo=timezone(-timedelta(hours=5))),
        }),
        ("datetime-rounding", {
            "down": datetime(2024, 2, 29, 12, 34, 56, 123456, tzinfo=utc),    # 123.456 -> 123
            "up": datetime(2024, 2, 29, 12, 34, 56, 123501, tzinfo=utc),      # 123.501 -> 124
            "half-odd": datetime(2024, 2, 29, 12, 34, 56, 123500, tzinfo=utc),  # 123.5 -> 124
            "half-even": datetime(2024, 2, 29, 12, 34, 56, 124500, tzinfo=utc),  # 124.5 -> 124
            "carry": datetime(2024, 2, 29, 12, 34, 56, 999600, tzinfo=utc),   # -> :57.000
            "pre-epoch": datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=utc),  # -0.5 -> 0
        }),
    ]


def invalid_suite():
    """Invalid BSON that py-bson writes without complaint: a bytes key is copied as it is,
    so a key that is not UTF-8 goes out. Then a valid document, to show the stream is still
    in step."""
    return [
        ("bad-key", {b"\xff\xfe": 1}),
        ("after", {"ok": True}),
    ]


def classes_suite():
    """Tagged objects at the top level, inside a tagged object's list, and inside a plain
    dict and its lists. The Swift tests hold the same values as Swift types."""
    from datetime import datetime, timezone
    import uuid

    reading = Reading(
        sensor="t-1", value=21.5, count=3, ok=True,
        at=datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=timezone.utc),
        tags=["a", "b"], raw=b"\x00\x01\xff", ident=uuid.UUID("12345678-9abc-def0-1234-56789abcdef0"))
    return [
        ("point", Point(1, 2)),
        ("polygon", Polygon("triangle", [Point(0, 0), Point(4, 0), Point(0, 3)])),
        ("reading", reading),
        ("holder", {"label": "objects in a plain dict", "origin": Point(0, 0),
                    "path": [Point(1, 1), Point(2, 3)], "shape": Polygon("line", [Point(5, 5), Point(6, 6)])}),
        ("shapes", {"shapes": [Point(9, 9), Polygon("single", [Point(2, 2)])]}),
    ]


def unregistered_suite():
    """A class the Swift side does not register, twice, then one it does."""
    return [
        ("mystery", Mystery("hidden")),
        ("mystery-again", Mystery("hidden")),
        ("point-after", Point(7, 8)),
    ]


def from_swift_suite():
    """What the Swift tests send to classes-recv: the classes suite, then a class py-bson
    does not know, then a point (the stream is still in step)."""
    return classes_suite() + [
        ("swift-only", MissingClass("SwiftOnly")),
        ("point-after", Point(7, 8)),
    ]


def class_suite(name):
    suites = {"classes": classes_suite, "unregistered": unregistered_suite, "from-swift": from_swift_suite}
    if name not in suites:
        raise common.PeerError("unknown class suite %r (have: %s)" % (name, ", ".join(sorted(suites))))
    return suites[name]()


def run_classes_send(flavour, args):
    """Sends each object with sock.sendobj (py-bson's own API for BSONCoding objects)."""
    entries = class_suite(args.suite)
    failures = 0
    with common.connect(args) as sock:
        for index, (name, obj) in enumerate(entries):
            sent = bson.dumps(obj)
            record = {"flavour": flavour.name, "mode": "classes-send", "suite": args.suite, "index": index,
                      "name": name}
            record.update(common.bytes_report("sent", sent, args.hex_limit))
            try:
                sock.sendobj(obj)
                if args.no_reply:
                    record["ok"] = True
                else:
                    reply = flavour.recv_frame(sock)
                    if reply is None:
                        record.update(ok=False, closed=True, error="connection closed before the reply")
                    else:
                        decoded = bson.loads(reply)
                        record["reply_len"] = len(reply)
                        record["reply_class"] = type(decoded).__name__
                        record["bytes_equal"] = reply == sent
                        record["equal"] = common.canon(decoded, flavour) == common.canon(obj, flavour)
                        record["ok"] = record["equal"] and (record["bytes_equal"] or not args.exact)
                        if not record["ok"]:
                            record["reply_hex"] = reply.hex()
                            record["reply_canon"] = common.canon(decoded, flavour)
            except Exception as error:
                record.update(ok=False, error="%s: %s" % (type(error).__name__, error))
            common.emit_line(record)
            failures += 0 if record["ok"] else 1
            if not record["ok"] and ("error" in record or record.get("closed")):
                break  # the stream may be out of step
    common.log("%s classes-send %s: %d objects, %d failed" % (flavour.name, args.suite, len(entries), failures))
    return 0 if failures == 0 else 1


def run_classes_recv(flavour, args):
    """Receives one frame per entry (py-bson's recvbytes framing), loads it with py-bson, and
    checks that the tagged documents became instances of the right classes and fields."""
    entries = class_suite(args.suite)
    failures = 0
    with common.connect(args) as sock:
        for index, (name, expected) in enumerate(entries):
            record = {"flavour": flavour.name, "mode": "classes-recv", "suite": args.suite, "index": index,
                      "name": name}
            frame = flavour.recv_frame(sock)
            if frame is None:
                record.update(ok=False, closed=True, error="connection closed before this document")
                common.emit_line(record)
                failures += len(entries) - index
                break
            record["received_len"] = len(frame)
            if len(frame) <= args.hex_limit:
                record["received_hex"] = frame.hex()
            try:
                decoded = bson.loads(frame)
            except bson.MissingClassDefinition as error:
                record["error"] = "MissingClassDefinition: %s" % error
                record["ok"] = isinstance(expected, MissingClass) and expected.name in str(error)
            except Exception as error:
                record.update(ok=False, error="%s: %s" % (type(error).__name__, error))
            else:
                record["class"] = type(decoded).__name__
                if isinstance(expected, MissingClass):
                    record["ok"] = False
                else:
                    record["equal"] = common.canon(decoded, flavour) == common.canon(expected, flavour)
                    record["bytes_equal"] = frame == bson.dumps(expected)
                    record["ok"] = record["equal"]
                    if not record["equal"]:
                        record["received_canon"] = common.canon(decoded, flavour)
                        record["expected_canon"] = common.canon(expected, flavour)
            common.emit_line(record)
            failures += 0 if record["ok"] else 1
    common.log("%s classes-recv %s: %d documents, %d failed" % (flavour.name, args.suite, len(entries), failures))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(common.main(PyBSONFlavour()))
