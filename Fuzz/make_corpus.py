#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets to Corpus/<target>/.

Seeds are valid documents of every BSON type and valid Extended JSON texts, taken from
the BSON corpus test data (Tests/BSONCodecTests/Resources/bson-corpus/*.json) and the
driver-benchmark documents (Data/driver-bench), plus a few documents built here for the
types that the copied corpus files lack. A few invalid documents (the corpus' decode and
parse errors) are added too, so that the error paths start covered.

Needs pymongo's `bson` for the Extended JSON → BSON conversions (the `.venv-pymongo` that
`make test` prepares). Run from anywhere:  .venv-pymongo/bin/python Fuzz/make_corpus.py
Files are named by the SHA-1 of their content, as libFuzzer names its own.
"""
import glob
import hashlib
import json
import os
import shutil
import struct

import bson
from bson import json_util
from bson.code import Code
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "Corpus")
MAX_SEED = 4096  # the -max_len the Makefile runs with


def write(target, data):
    if len(data) > MAX_SEED:
        return
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def corpus_cases():
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests/BSONCodecTests/Resources/bson-corpus/*.json"))):
        with open(path) as f:
            yield json.load(f)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    documents = []  # valid BSON documents
    texts = []  # valid Extended JSON texts
    invalid_bson = []
    invalid_json = []
    for case_file in corpus_cases():
        for case in case_file.get("valid", []):
            documents.append(bytes.fromhex(case.get("canonical_bson") or case["bson"]))
            for key in ("degenerate_bson",):
                if key in case:
                    documents.append(bytes.fromhex(case[key]))
            for key in ("canonical_extjson", "relaxed_extjson", "degenerate_extjson"):
                if key in case:
                    texts.append(case[key].encode())
        for case in case_file.get("decodeErrors", []):
            invalid_bson.append(bytes.fromhex(case["bson"]))
        for case in case_file.get("parseErrors", []):
            invalid_json.append(case["string"].encode())

    # The types whose corpus files were not copied: string, int32, int64, boolean, null,
    # ObjectId, code, code with scope, document, min key, and an empty document.
    extra = [
        {},
        {"s": "h\u00e9llo \u2603", "e": ""},
        {"i": 42, "n": -(2**31)},
        {"l": Int64(2**40), "m": Int64(-1)},
        {"t": True, "f": False, "z": None},
        {"_id": ObjectId("5f0c6e2a9d1e8b3c4a5b6c7d")},
        {"c": Code("function() { return 1; }")},
        {"w": Code("function(x) { return x + y; }", {"y": 1})},
        {"d": {"a": {"b": {"c": [1, "two", 3.0]}}}},
        {"lo": MinKey(), "hi": MaxKey()},
    ]
    documents += [bson.encode(d) for d in extra]
    texts += [json_util.dumps(d, json_options=json_util.CANONICAL_JSON_OPTIONS).encode() for d in extra]

    # The driver-benchmark documents (the large one is skipped: seeds stay small).
    bench = os.path.join(ROOT, "Data/driver-bench")
    for name in ("flat_bson.json", "deep_bson.json", "full_bson.json",
                 "single_and_multi_document/small_doc.json", "single_and_multi_document/tweet.json"):
        with open(os.path.join(bench, name), "rb") as f:
            text = f.read()
        texts.append(text)
        documents.append(bson.encode(json_util.loads(text)))

    for data in documents + invalid_bson:
        write("fuzz-decode", data)
        write("fuzz-view", data)
    for data in texts + invalid_json:
        write("fuzz-ejson", data)

    # fuzz-frames inputs: a configuration byte, a seed byte, then a stream of frames —
    # one document, two in a row, a document cut short, a frame with a bad terminator.
    small = [d for d in documents if len(d) <= 200]
    for i, doc in enumerate(small):
        config, seed = i % 16, (i * 37) % 256
        nxt = small[(i + 1) % len(small)]
        streams = [doc, doc + nxt, doc + nxt[: len(nxt) // 2]]
        if i % 4 == 0:
            streams.append(doc[:-1] + b"\x01" + nxt)
        for j, stream in enumerate(streams):
            write("fuzz-frames", bytes([(config + j) % 16, seed]) + stream)
    for header in (0, 4, -1, 2**31 - 1, 16 * 1024 * 1024 + 16 * 1024 + 1):
        write("fuzz-frames", bytes([0, 7]) + struct.pack("<i", header) + b"\x00")

    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
