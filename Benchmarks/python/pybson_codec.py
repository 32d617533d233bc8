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

import json
import os
import sys
import time

import bson

NAMES = ("flat", "deep", "full")


def malloc_counter():
    """bench_malloc_count() of c/malloc_count.c when bench.py preloads it, else None."""
    try:
        import ctypes
        counter = ctypes.CDLL(None).bench_malloc_count
    except (OSError, AttributeError):
        return None
    counter.restype = ctypes.c_uint64
    return counter


MALLOCS = malloc_counter()


def timed(operation, argument, ops, warmup):
    for _ in range(warmup):
        operation(argument)
    before = MALLOCS() if MALLOCS else 0
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(ops):
        operation(argument)
    ns, cpu_ns = time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu
    return ns, cpu_ns, (MALLOCS() - before if MALLOCS else None)


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
    for _ in range(1_000_000):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            return
        words = line.split()
        try:
            operation, argument = tasks[words[0]]
            ops, warmup = int(words[1]), int(words[2])
            if len(words) != 3 or ops <= 0 or warmup < 0:
                raise ValueError
        except (KeyError, IndexError, ValueError):
            print(json.dumps({"error": f"bad request: {line.strip()}"}), flush=True)
            continue
        ns, cpu_ns, mallocs = timed(operation, argument, ops, warmup)
        record = {"side": "pybson", "task": words[0], "ops": ops, "ns": ns, "cpu_ns": cpu_ns,
                  "encoded_bytes": sizes[words[0]]}
        if mallocs is not None:
            record["mallocs"] = mallocs
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
