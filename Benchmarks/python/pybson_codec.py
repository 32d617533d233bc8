"""The py-bson 0.5.10 side of the codec benchmark (driven by ../bench.py).

    .venv-pybson/bin/python pybson_codec.py serve BSON_DIR

BSON_DIR holds flat.bson, deep.bson and full.bson: the bytes every contender decodes
(written by codec-compare and checked equal to pymongo's). Answers "TASK OPS WARMUP" lines
(TASK like decode/flat) with one JSON line each, like pymongo_codec.py:

    decode/NAME   bson.loads(bytes) -> dict
    encode/NAME   bson.dumps(dict), the dict being what bson.loads gave. py-bson has no
                  ObjectId, Int64 or Timestamp types of its own, so for flat and full it
                  writes different bytes than it read (ints by range, for one); the
                  `encoded_bytes` field of each answer says how many.
"""

import os
import sys

import bson

from codec_worker import serve

NAMES = ("flat", "deep", "full")


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit(__doc__)
    if not hasattr(bson, "patch_socket"):
        sys.exit("pybson_codec: this environment's bson is not py-bson")
    tasks, sizes = {}, {}
    for name in NAMES:
        with open(os.path.join(sys.argv[2], f"{name}.bson"), "rb") as handle:
            data = handle.read()
        parsed = bson.loads(data)
        tasks[f"decode/{name}"] = (bson.loads, data)
        tasks[f"encode/{name}"] = (bson.dumps, parsed)
        sizes[f"decode/{name}"] = len(data)
        sizes[f"encode/{name}"] = len(bson.dumps(parsed))
    serve("pybson", tasks, extra=lambda task: {"encoded_bytes": sizes[task]})


if __name__ == "__main__":
    main()
