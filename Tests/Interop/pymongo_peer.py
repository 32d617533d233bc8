#!/usr/bin/env python3
"""pymongo (4.20.1, its `bson` module) interop peer for swift-bson-socket.

Run it with the interpreter of the pymongo virtual environment (.venv-pymongo, or the
BSON_SOCKET_PYMONGO variable that `make test` sets). pymongo has no socket helpers, so the
framing is ours, in Python (interop_common.recv_frame_python): read the 4-byte header
exactly, check 5 <= length <= 16 MiB + 16 KiB, read the rest in recv calls of at most
32 KiB into one buffer; a close inside a frame is an error, a close between frames is the
end. Documents are written with `bson.encode` and read with `bson.decode`.

    python pymongo_peer.py server --host 127.0.0.1 --port 0 --reply echo
    python pymongo_peer.py server --unix /tmp/dir/peer.sock
    python pymongo_peer.py client --port PORT --suite types [--exact]
    python pymongo_peer.py emit types --port PORT
    python pymongo_peer.py pipeline 100 --port PORT [--one-write] [--vary]
    python pymongo_peer.py big 8388608 --port PORT [--kind string]
    python pymongo_peer.py close-mid-frame --port PORT [--cut 14] [--before 1]
    python pymongo_peer.py print-suite types
    python pymongo_peer.py server --port 0 --reply cut --cut 12   (a reply cut short)

Suites: basic, types, sizes.

Codec options (CODEC below), chosen so that an echo changes as little as possible:
  - uuid_representation=STANDARD: uuid.UUID <-> binary subtype 4 in RFC 4122 order
    (pymongo 4's default, UNSPECIFIED, refuses to encode uuid.UUID and decodes subtype 4
    as Binary); subtype 3 stays Binary(…, 3).
  - datetime_conversion=DATETIME_AUTO: datetimes outside years 1...9999 decode as
    DatetimeMS instead of raising, so every Int64 millisecond value echoes unchanged.
  - tz_aware=False (the default): datetimes decode as naive UTC.

What pymongo writes: bool 0x08; int 0x10 when it fits 32 bits, else 0x12, beyond 64 bits
OverflowError; Int64 always 0x12; float 0x01; str 0x02; bytes 0x05/0; Binary 0x05 with its
subtype (2 gets the inner length added); uuid.UUID 0x05/4; ObjectId 0x07; datetime 0x09
(aware converted to UTC, naive taken as UTC, microseconds truncated toward the past);
DatetimeMS 0x09 as is; None 0x0A; Regex/re.Pattern 0x0B (flags as letters in the order
"ilmsux", re.compile adds "u"); Code 0x0D, or 0x0F when it has a scope; Timestamp 0x11;
Decimal128 0x13; MinKey 0xFF; MaxKey 0x7F; DBRef a plain document {$ref, $id[, $db], extra…}.

What an echo through pymongo changes: 0x06 undefined -> 0x0A null; 0x0E symbol -> 0x02
string; 0x0C DBPointer -> document {$ref, $id}; regex flags re-sorted and unknown letters
dropped; a document with $ref and $id reordered to $ref, $id, $db, rest; repeated keys
collapse (the last value, at the first position); a boolean byte other than 0/1 is
rejected (InvalidBSON).
"""

import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import re  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import bson  # noqa: E402  (pymongo's bson)
from bson.binary import Binary, UuidRepresentation  # noqa: E402
from bson.code import Code  # noqa: E402
from bson.codec_options import CodecOptions, DatetimeConversion  # noqa: E402
from bson.datetime_ms import DatetimeMS  # noqa: E402
from bson.dbref import DBRef  # noqa: E402
from bson.decimal128 import Decimal128  # noqa: E402
from bson.int64 import Int64  # noqa: E402
from bson.max_key import MaxKey  # noqa: E402
from bson.min_key import MinKey  # noqa: E402
from bson.objectid import ObjectId  # noqa: E402
from bson.regex import Regex  # noqa: E402
from bson.timestamp import Timestamp  # noqa: E402

import interop_common as common  # noqa: E402

CODEC = CodecOptions(
    uuid_representation=UuidRepresentation.STANDARD,
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)


class PyMongoFlavour(common.Flavour):
    name = "pymongo"

    def encode(self, doc):
        return bson.encode(doc, codec_options=CODEC)

    def decode(self, data):
        return bson.decode(data, codec_options=CODEC)

    def send_doc(self, sock, doc):
        sock.sendall(self.encode(doc))

    def recv_frame(self, sock):
        return common.recv_frame_python(sock)

    def serve_one(self, sock):
        frame = common.recv_frame_python(sock)
        if frame is None:
            return False
        sock.sendall(self.encode(self.decode(frame)))
        return True

    def binary_factory(self):
        return lambda payload: Binary(payload, 0)

    def canon_special(self, value):
        # Order matters: Int64 is an int, Binary is bytes, Code is str.
        if isinstance(value, Int64):
            return ["Int64", str(int(value))]
        if isinstance(value, Binary):
            return ["Binary", value.subtype, bytes(value).hex()]
        if isinstance(value, Code):
            scope = None if value.scope is None else common.canon(value.scope, self)
            return ["Code", str(value), scope]
        if isinstance(value, ObjectId):
            return ["ObjectId", str(value)]
        if isinstance(value, Regex):
            return ["Regex", value.pattern, value.flags]
        if isinstance(value, Timestamp):
            return ["Timestamp", value.time, value.inc]
        if isinstance(value, Decimal128):
            return ["Decimal128", str(value), value.bid.hex()]
        if isinstance(value, MinKey):
            return ["MinKey"]
        if isinstance(value, MaxKey):
            return ["MaxKey"]
        if isinstance(value, DatetimeMS):
            return ["DatetimeMS", int(value)]
        if isinstance(value, DBRef):
            return ["DBRef", value.collection, common.canon(value.id, self), value.database,
                    common.canon(dict(value._DBRef__kwargs), self)]
        return None

    def suites(self):
        return {
            "basic": common.basic_suite,
            "types": types_suite,
            "sizes": lambda: common.sizes_suite(self.binary_factory()),
        }


OID = ObjectId("0123456789abcdef01234567")


def types_suite():
    """Every type pymongo writes: the basic suite plus pymongo's own types."""
    sixteen = bytes(range(16))
    return common.basic_suite() + [
        ("objectid", {"oid": OID, "zero": ObjectId("000000000000000000000000")}),
        ("int64-forced", {"small": Int64(5), "neg": Int64(-1), "max": Int64(2**63 - 1)}),
        ("decimal128", {
            "one-ten": Decimal128("1.10"), "neg-zero": Decimal128("-0"), "nan": Decimal128("NaN"),
            "inf": Decimal128("Infinity"), "ninf": Decimal128("-Infinity"),
            "max": Decimal128("9.999999999999999999999999999999999E+6144"),
            "tiny": Decimal128("1E-6176"),
        }),
        ("regex", {"full": Regex("^ab.*c$", "imsx"), "plain": Regex("", ""),
                   "compiled": re.compile("a+b", re.I | re.M)}),
        ("code", {"code": Code("function () { return 1; }")}),
        ("code-with-scope", {"cws": Code("x + y", {"y": 2, "nested": {"z": [1]}}),
                             "empty-scope": Code("x", {})}),
        ("binary-subtypes", {
            "generic": Binary(b"\x00\x01", 0), "function": Binary(b"f", 1), "old": Binary(b"old", 2),
            "uuid-legacy": Binary(sixteen, 3), "uuid": Binary(sixteen, 4), "md5": Binary(sixteen, 5),
            "encrypted": Binary(b"enc", 6), "column": Binary(b"col", 7), "sensitive": Binary(b"secret", 8),
            "user": Binary(b"user", 0x80), "user-empty": Binary(b"", 0x80), "user-max": Binary(b"\xff", 0xFF),
        }),
        ("uuid-standard", {"u": uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")}),
        ("timestamp", {"zero": Timestamp(0, 0), "typical": Timestamp(1700000000, 7),
                       "max": Timestamp(2**32 - 1, 2**32 - 1)}),
        ("minmax", {"min": MinKey(), "max": MaxKey()}),
        ("dbref", {"simple": DBRef("coll", OID), "full": DBRef("coll", 5, "db", extra="x")}),
        ("datetime-truncation", {
            "naive": datetime(2024, 2, 29, 12, 34, 56, 789999),
            "plus": datetime(2024, 2, 29, 18, 4, 56, 789999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "pre-epoch": datetime(1969, 12, 31, 23, 59, 59, 999999),
        }),
        ("datetime-ms", {"future": DatetimeMS(2**62), "past": DatetimeMS(-2**62),
                         "max": DatetimeMS(2**63 - 1), "min": DatetimeMS(-2**63)}),
    ]


if __name__ == "__main__":
    sys.exit(common.main(PyMongoFlavour()))
