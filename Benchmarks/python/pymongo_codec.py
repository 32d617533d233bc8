"""The pymongo side of the codec comparison (driven by ../compare_codec.py).

    python pymongo_codec.py emit DATA_DIR OUT_DIR      writes OUT_DIR/<name>.bson
    python pymongo_codec.py serve DATA_DIR           reads "TASK OPS WARMUP" lines on stdin
                                                       (TASK like decode/flat) and answers each
                                                       with one JSON line
    python pymongo_codec.py run DATA_DIR [--ops N] [--warmup N] [--doc NAME] [--task decode|encode]
                                                       times each task (of one document with
                                                       --doc), one JSON object per line

Each document is read with bson.json_util.loads (pymongo's Extended JSON parser) and
encoded once with bson.encode before any timing starts. Both sides time the same
operations: bson.decode(bytes) -> dict against our BSONDocument(bytes:), and
bson.encode(dict) -> bytes against our encoded().
"""

import argparse
import json
import os
import sys

import bson
from bson import json_util

from codec_worker import serve as codec_worker_serve, timed_counting

NAMES = ("flat", "deep", "full")


def load(data_dir):
    documents = {}
    for name in NAMES:
        with open(os.path.join(data_dir, f"{name}_bson.json"), encoding="utf-8") as handle:
            parsed = json_util.loads(handle.read())
        documents[name] = (parsed, bson.encode(parsed))
    return documents


def timed(operation, argument, ops, warmup):
    """(wall-clock ns, this thread's CPU ns) of `ops` operations after `warmup` untimed."""
    return timed_counting(operation, argument, ops, warmup)[:2]


def serve(documents, decode, encode):
    """Answers "TASK OPS WARMUP" lines (see codec_worker.serve)."""
    tasks = {}
    for name, (parsed, data) in documents.items():
        tasks[f"decode/{name}"] = (decode, data)
        tasks[f"encode/{name}"] = (encode, parsed)
    codec_worker_serve("pymongo", tasks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("emit", "run", "serve"))
    parser.add_argument("data_dir")
    parser.add_argument("out_dir", nargs="?")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--doc", choices=NAMES)
    parser.add_argument("--task", choices=("decode", "encode"), help="only this operation (for profiling)")
    args = parser.parse_args()

    if not bson.has_c():
        sys.exit("pymongo_codec: pymongo's C extension (bson._cbson) is not loaded; the comparison needs it")

    documents = load(args.data_dir)
    if args.command == "emit":
        if not args.out_dir:
            sys.exit("pymongo_codec: emit needs OUT_DIR")
        for name, (_, data) in documents.items():
            with open(os.path.join(args.out_dir, f"{name}.bson"), "wb") as handle:
                handle.write(data)
        return

    decode = bson.decode
    encode = bson.encode
    if args.command == "serve":
        serve(documents, decode, encode)
        return
    for name, (parsed, data) in documents.items():
        if args.doc and name != args.doc:
            continue
        for task, operation, argument in (("decode", decode, data), ("encode", encode, parsed)):
            if args.task and task != args.task:
                continue
            ns, cpu_ns = timed(operation, argument, args.ops, args.warmup)
            print(json.dumps({"side": "pymongo", "task": f"{task}/{name}", "ops": args.ops, "ns": ns, "cpu_ns": cpu_ns}),
                  flush=True)


if __name__ == "__main__":
    main()
