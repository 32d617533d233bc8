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

Suites: basic, types, sizes, invalid (a non-UTF-8 bytes key, which py-bson writes as is).

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
        }


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


if __name__ == "__main__":
    sys.exit(common.main(PyBSONFlavour()))
