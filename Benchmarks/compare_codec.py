#!/usr/bin/env python3
"""Swift codec vs pymongo's C codec (and raw libbson), measured in one run.

    python3 Benchmarks/compare_codec.py [--rounds N] [--ops N] [--warmup N] [--json PATH]
    make bench-codec                                   (the same, from the repository root)

What it does, in order:

1. Finds pymongo's virtual environment, .venv-pymongo at the repository root, and creates
   it with `make venvs` (the root Makefile's rule) when it is missing.
2. Builds the Swift side (`codec-compare`, release, scratch path Benchmarks/.build-bench)
   and the C ceiling (c/libbson_codec.c, gcc -O2 against libbson via pkg-config).
3. Has both sides parse the MongoDB driver-benchmark documents (flat, deep, full) from
   Data/driver-bench/ -- Swift with our Extended JSON parser, Python with
   bson.json_util.loads -- and encode them. The encoded bytes must be identical, and of the
   sizes the driver-benchmark data is known to have; otherwise it stops with an error.
4. Starts one long-lived worker per side (Swift, pymongo, C) and runs interleaved rounds:
   in each round, every Swift task is measured right next to the pymongo task it is
   compared with (which side goes first alternates from round to round), so that load
   from elsewhere on the machine hits both alike. Each measurement is `--warmup` untimed
   operations, then `--ops` operations timed back to back.
5. Prints Markdown tables (median and min-max over rounds; each ratio is taken within a
   round, ours / theirs, and summarised the same way) and writes them with a machine
   description to Benchmarks/results/codec.json.

The Codable tasks (codable-decode/NAME, codable-encode/NAME: the document's bytes decoded
into its Swift model of Benchmarks/Sources/CodecBenchSupport with BSONDecoder, the model
encoded with BSONEncoder) are measured in the same rounds, right after the pymongo task and
our BSONDocument task they are compared with.

Every measurement is timed twice: by the wall clock and by the CPU time of the measuring
thread. The tables use CPU time: on a shared machine a process often waits for a core in
the middle of a measurement (seen here: 14 ms of wall clock for 5 ms of work), and CPU time
leaves those waits out, for every side alike. The wall-clock ratios are printed beside
them and kept in the JSON file.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "Data", "driver-bench")
SCRATCH = os.path.join(HERE, ".build-bench")
VENV = os.path.join(ROOT, ".venv-pymongo")
VENV_PYTHON = os.path.join(VENV, "bin", "python")

NAMES = ("flat", "deep", "full")
# Encoded sizes of the current driver-benchmark data (Data/driver-bench/SOURCE.md).
EXPECTED_SIZES = {"flat": 6046, "deep": 2286, "full": 4026}
POSITIONS = ("first", "middle", "last")
GOALS = {"decode": 1.5, "encode": 1.2, "lookup": 10.0}
# Codable: at least as fast as pymongo, and at least half as fast as our BSONDocument path
# (no worse than 2x its time).
CODABLE_GOALS = {"pymongo": 1.0, "document": 0.5}


def fail(message):
    sys.exit(f"compare_codec: FAILED: {message}")


def run(command, cwd=None, capture=True):
    result = subprocess.run(command, cwd=cwd, text=True, capture_output=capture)
    if result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        fail(f"`{' '.join(command)}` exited with {result.returncode}\n{detail}")
    return result.stdout if capture else ""


def ensure_venv():
    if not os.path.exists(os.path.join(VENV, ".installed")):
        print("compare_codec: creating .venv-pymongo with `make venvs`", file=sys.stderr)
        run(["make", "-C", ROOT, "venvs"], capture=False)
    if not os.access(VENV_PYTHON, os.X_OK):
        fail(f"{VENV_PYTHON} is missing after `make venvs`")


def build(swift):
    print("compare_codec: building codec-compare (release, scratch path %s) and libbson_codec" % SCRATCH,
          file=sys.stderr)
    run([swift, "build", "-c", "release", "--scratch-path", SCRATCH, "--product", "codec-compare"], cwd=HERE, capture=False)
    bin_path = run([swift, "build", "-c", "release", "--scratch-path", SCRATCH, "--show-bin-path"], cwd=HERE).strip()
    swift_exe = os.path.join(bin_path, "codec-compare")
    flags = run(["pkg-config", "--cflags", "--libs", "libbson-1.0"]).split()
    c_exe = os.path.join(SCRATCH, "libbson_codec")
    run(["gcc", "-O2", "-Wall", "-Wextra", "-o", c_exe, os.path.join(HERE, "c", "libbson_codec.c")] + flags)
    return swift_exe, c_exe


def emit_and_compare(swift_exe, work):
    """Both sides parse the Extended JSON and encode it; the bytes must match exactly."""
    swift_dir = os.path.join(work, "swift")
    python_dir = os.path.join(work, "pymongo")
    os.makedirs(swift_dir)
    os.makedirs(python_dir)
    run([swift_exe, "emit", swift_dir])
    run([VENV_PYTHON, os.path.join(HERE, "python", "pymongo_codec.py"), "emit", DATA, python_dir])
    documents = {}
    for name in NAMES:
        with open(os.path.join(swift_dir, f"{name}.bson"), "rb") as handle:
            ours = handle.read()
        with open(os.path.join(python_dir, f"{name}.bson"), "rb") as handle:
            theirs = handle.read()
        if ours != theirs:
            where = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
            fail(
                f"{name}: Swift and pymongo encode different bytes ({len(ours)} vs {len(theirs)} bytes, "
                f"first difference at offset {where}: {ours[where:where + 16].hex()} vs {theirs[where:where + 16].hex()})"
            )
        if len(ours) != EXPECTED_SIZES[name]:
            fail(f"{name}: encoded size {len(ours)} bytes, expected {EXPECTED_SIZES[name]} (different data?)")
        documents[name] = {"bytes": len(ours), "sha256": hashlib.sha256(ours).hexdigest()}
    return python_dir, documents


class Worker:
    """One long-lived measuring process (Swift, pymongo or C) that answers "TASK OPS WARMUP"
    lines with one JSON line each; keeping it alive lets the driver interleave the sides
    task by task without paying a process start for each measurement."""

    def __init__(self, side, command):
        self.side = side
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def measure(self, task, ops, warmup):
        self.process.stdin.write(f"{task} {ops} {warmup}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            fail(f"the {self.side} worker exited (status {self.process.wait()}) while measuring {task}")
        record = json.loads(line)
        if ("error" in record or record.get("side") != self.side or record.get("task") != task
                or record.get("ns", 0) <= 0 or record.get("cpu_ns", 0) <= 0):
            fail(f"the {self.side} worker answered {record} for {task}")
        return {"wall": record["ops"] / (record["ns"] / 1e9), "cpu": record["ops"] / (record["cpu_ns"] / 1e9)}

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def rounds(args, swift_exe, c_exe, bson_dir):
    """samples[clock][side][task] = [docs/s in round 1, round 2, ...], clock "cpu" or "wall"

    Within a round, each Swift task and the pymongo task it is compared with run back to
    back, and which side goes first alternates from round to round."""
    samples = {clock: {"swift": {}, "pymongo": {}, "c": {}} for clock in ("cpu", "wall")}
    workers = {
        "swift": Worker("swift", [swift_exe, "serve"]),
        "pymongo": Worker("pymongo", [VENV_PYTHON, os.path.join(HERE, "python", "pymongo_codec.py"), "serve", DATA]),
        "c": Worker("c", [c_exe, bson_dir, "serve"]),
    }

    def measure(side, task):
        rates = workers[side].measure(task, args.ops, args.warmup)
        for clock, rate in rates.items():
            samples[clock][side].setdefault(task, []).append(rate)

    try:
        for round_index in range(args.rounds):
            flip = round_index % 2 == 1
            pair = ("pymongo", "swift") if flip else ("swift", "pymongo")
            print(f"compare_codec: round {round_index + 1}/{args.rounds} ({pair[0]} first)", file=sys.stderr)
            for name in NAMES:
                for operation in ("decode", "encode"):
                    for side in pair:
                        measure(side, f"{operation}/{name}")
                    measure("swift", f"codable-{operation}/{name}")
                measure("swift", f"validate/{name}")
                for position in POSITIONS:
                    trio = ("lookup-view", "lookup-decode", "locate-view")
                    for kind in reversed(trio) if flip else trio:
                        measure("swift", f"{kind}/{name}/{position}")
                for task in ("walk", "walk-utf8", "validate", "rebuild"):
                    measure("c", f"{task}/{name}")
    finally:
        for worker in workers.values():
            worker.close()
    return samples


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def paired(numerators, denominators):
    """Per-round ratios (both were measured in the same round)."""
    return summary([a / b for a, b in zip(numerators, denominators)])


def fmt_rate(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def fmt_ratio(s):
    return f"**{s['median']:.2f}×** ({s['min']:.2f}–{s['max']:.2f})"


def analyse(samples, keys_by_doc):
    swift, pymongo, c = samples["swift"], samples["pymongo"], samples["c"]
    codec = []
    for operation in ("decode", "encode"):
        for name in NAMES:
            task = f"{operation}/{name}"
            ratio = paired(swift[task], pymongo[task])
            codec.append({
                "task": task, "ours": summary(swift[task]), "pymongo": summary(pymongo[task]), "ratio": ratio,
                "goal": GOALS[operation], "met": ratio["median"] >= GOALS[operation],
            })
    lookups = []
    for name in NAMES:
        for position in POSITIONS:
            view = swift[f"lookup-view/{name}/{position}"]
            eager = swift[f"lookup-decode/{name}/{position}"]
            locate = swift[f"locate-view/{name}/{position}"]
            ratio = paired(view, eager)
            lookups.append({
                "document": name, "position": position, "key": keys_by_doc.get(name, {}).get(position),
                "view": summary(view), "decode_subscript": summary(eager), "ratio": ratio,
                "locate_only": summary(locate), "locate_ratio": paired(locate, eager),
                "goal": GOALS["lookup"], "met": ratio["median"] >= GOALS["lookup"],
            })
    ceiling = []
    for name in NAMES:
        ceiling.append({
            "document": name,
            "c_walk": summary(c[f"walk/{name}"]), "c_walk_utf8": summary(c[f"walk-utf8/{name}"]),
            "c_validate": summary(c[f"validate/{name}"]), "c_rebuild": summary(c[f"rebuild/{name}"]),
            "ours_decode": summary(swift[f"decode/{name}"]), "ours_validate": summary(swift[f"validate/{name}"]),
            "ours_encode": summary(swift[f"encode/{name}"]),
            "decode_vs_walk": paired(swift[f"decode/{name}"], c[f"walk/{name}"]),
            "decode_vs_walk_utf8": paired(swift[f"decode/{name}"], c[f"walk-utf8/{name}"]),
            "validate_vs_walk_utf8": paired(swift[f"validate/{name}"], c[f"walk-utf8/{name}"]),
            "validate_vs_bson_validate": paired(swift[f"validate/{name}"], c[f"validate/{name}"]),
            "encode_vs_rebuild": paired(swift[f"encode/{name}"], c[f"rebuild/{name}"]),
            "pymongo_decode_vs_walk": paired(pymongo[f"decode/{name}"], c[f"walk/{name}"]),
        })
    return codec, lookups, ceiling


def analyse_codable(samples):
    """Codable against pymongo and against our BSONDocument path, per operation and document."""
    swift, pymongo = samples["swift"], samples["pymongo"]
    rows = []
    for operation in ("decode", "encode"):
        for name in NAMES:
            codable = swift[f"codable-{operation}/{name}"]
            vs_pymongo = paired(codable, pymongo[f"{operation}/{name}"])
            vs_document = paired(codable, swift[f"{operation}/{name}"])
            rows.append({
                "task": f"codable-{operation}/{name}", "codable": summary(codable),
                "document": summary(swift[f"{operation}/{name}"]), "pymongo": summary(pymongo[f"{operation}/{name}"]),
                "vs_pymongo": vs_pymongo, "vs_document": vs_document,
                "goal_pymongo": CODABLE_GOALS["pymongo"], "goal_document": CODABLE_GOALS["document"],
                "met": vs_pymongo["median"] >= CODABLE_GOALS["pymongo"]
                and vs_document["median"] >= CODABLE_GOALS["document"],
            })
    return rows


def codable_markdown(rows, wall_rows):
    lines = [
        "",
        "Codable (CPU time): `BSONDecoder().decode(Model.self, from: bytes)` and `BSONEncoder().encode(model)` with the "
        "Swift models of Benchmarks/Sources/CodecBenchSupport, against pymongo's `bson.decode`/`bson.encode` and our "
        "`BSONDocument(bytes:)`/`encoded()`, measured next to each other in every round. Goals: Codable / pymongo "
        f"≥ {CODABLE_GOALS['pymongo']:.1f}×, and Codable / BSONDocument ≥ {CODABLE_GOALS['document']:.1f}× (no more than "
        "twice the document path's time).",
        "",
        "| task | Codable docs/s | BSONDocument docs/s | pymongo docs/s | Codable / pymongo | Codable / BSONDocument "
        "| met | Codable / pymongo, wall clock |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for row, wall in zip(rows, wall_rows):
        lines.append(
            f"| {row['task']} | {fmt_rate(row['codable'])} | {fmt_rate(row['document'])} | {fmt_rate(row['pymongo'])} "
            f"| {fmt_ratio(row['vs_pymongo'])} | {fmt_ratio(row['vs_document'])} | {'yes' if row['met'] else 'NO'} "
            f"| {fmt_ratio(wall['vs_pymongo'])} |"
        )
    return "\n".join(lines)


def markdown(codec, lookups, ceiling, config, wall_codec):
    lines = [
        f"Docs/s by CPU time of the measuring thread: median over {config['rounds']} interleaved rounds (min–max); "
        f"{config['ops']:,} operations per task per round after {config['warmup']:,} untimed. Ratios are taken "
        "within a round, then summarised. The last column is the same ratio by wall-clock time, which on this "
        "shared machine also counts the time a process waited for a core.",
        "",
        "| task | ours docs/s | pymongo docs/s | ours / pymongo | goal | met | ours / pymongo, wall clock |",
        "|---|---:|---:|---:|---:|:---:|---:|",
    ]
    for row, wall in zip(codec, wall_codec):
        lines.append(
            f"| {row['task']} | {fmt_rate(row['ours'])} | {fmt_rate(row['pymongo'])} | {fmt_ratio(row['ratio'])} "
            f"| ≥ {row['goal']}× | {'yes' if row['met'] else 'NO'} | {fmt_ratio(wall['ratio'])} |"
        )
    lines += [
        "",
        "Lazy lookup (CPU time): `BSONView(bytes:)` + `view[key]` vs `BSONDocument(bytes:)` + `doc[key]`, both from "
        "the received `[UInt8]`; 'locate only' is `BSONView(bytes:)` + `type(forKey:)` (finds the key, decodes no "
        "value).",
        "",
        "| document | key position (key) | view lookup docs/s | decode + subscript docs/s | view / decode | locate only docs/s | goal | met |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for row in lookups:
        lines.append(
            f"| {row['document']} | {row['position']} (`{row['key']}`) | {fmt_rate(row['view'])} | "
            f"{fmt_rate(row['decode_subscript'])} | {fmt_ratio(row['ratio'])} | {fmt_rate(row['locate_only'])} "
            f"(×{row['locate_ratio']['median']:.0f}) | ≥ {row['goal']:.0f}× | {'yes' if row['met'] else 'NO'} |"
        )
    lines += [
        "",
        "Key positions are top-level indices 0, count/2 and count-1 (`_id` is first because pymongo writes a "
        "top-level `_id` first and both sides encode identical bytes). deep_bson has only two top-level keys, so "
        "its middle key is its last; each holds a subtree of about half the document, so a lookup there "
        "materialises half the document and the view cannot beat a full decode by much; 'locate only' "
        "shows what finding the key costs.",
    ]
    lines += [
        "",
        "C ceiling (CPU time; libbson called directly from C, same bytes, same rounds). walk = bson_iter over every element "
        "reading each value; walk+UTF-8 adds bson_utf8_validate on keys and strings (our decoder checks that too); "
        "rebuild = walk + typed bson_append_* into a new bson_t.",
        "",
        "| document | C walk | C walk+UTF-8 | C bson_validate | C rebuild | ours decode / C walk | ours decode / C walk+UTF-8 | ours validate / C walk+UTF-8 | ours encode / C rebuild |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in ceiling:
        lines.append(
            f"| {row['document']} | {row['c_walk']['median']:,.0f} | {row['c_walk_utf8']['median']:,.0f} | "
            f"{row['c_validate']['median']:,.0f} | {row['c_rebuild']['median']:,.0f} | "
            f"{fmt_ratio(row['decode_vs_walk'])} | {fmt_ratio(row['decode_vs_walk_utf8'])} | "
            f"{fmt_ratio(row['validate_vs_walk_utf8'])} | {fmt_ratio(row['encode_vs_rebuild'])} |"
        )
    lines += [
        "",
        "Ratios in this table are ours / C (1.00 = as fast as libbson driven from C). C bson_validate is "
        "libbson 1.23's own validator; it stops checking at the first code-with-scope element, which is why "
        "its full_bson figure is so high (our validate checks everything).",
    ]
    return "\n".join(lines)


def first_line(command):
    """The first line a command prints (stdout, else stderr), or None; shared with
    compare_transport.py and bench.py for their machine descriptions."""
    try:
        output = subprocess.run(command, text=True, capture_output=True, timeout=30)
        text = (output.stdout or output.stderr).strip()
        return text.splitlines()[0] if text else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
    except OSError:
        return None


def machine(swift):
    cpu = cpu_model()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "swift": first_line([swift, "--version"]),
        "python": first_line([VENV_PYTHON, "--version"]),
        "pymongo": first_line([VENV_PYTHON, "-c", "import pymongo, bson; print(pymongo.version, 'C extension' if bson.has_c() else 'pure Python')"]),
        "libbson": first_line(["pkg-config", "--modversion", "libbson-1.0"]),
        "gcc": first_line(["gcc", "--version"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--ops", type=int, default=10_000, help="timed operations per task per round (default 10,000)")
    parser.add_argument("--warmup", type=int, default=1_000, help="untimed operations before each task (default 1,000)")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "codec.json"), help="where to write the results")
    parser.add_argument("--swift", default=os.environ.get("SWIFT", "swift"), help="the swift driver to build with")
    parser.add_argument("--scratch-path", default=None,
                        help="SwiftPM scratch path for the Swift build (default Benchmarks/.build-bench)")
    args = parser.parse_args()
    if args.scratch_path:
        global SCRATCH
        SCRATCH = os.path.abspath(args.scratch_path)
    if not 1 <= args.rounds <= 100 or not 1 <= args.ops <= 10_000_000 or not 0 <= args.warmup <= 10_000_000:
        fail("--rounds must be 1...100, --ops 1...10,000,000, --warmup 0...10,000,000")
    if shutil.which(args.swift) is None:
        fail(f"{args.swift} not found")

    ensure_venv()
    swift_exe, c_exe = build(args.swift)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="compare-codec-") as work:
        bson_dir, documents = emit_and_compare(swift_exe, work)
        print("compare_codec: Swift and pymongo encode identical bytes: "
              + ", ".join(f"{n} {documents[n]['bytes']} B" for n in NAMES), file=sys.stderr)
        # The keys each lookup uses, as the Swift side chose them (first, middle, last).
        keys = json.loads(run([swift_exe, "keys"]))
        samples = rounds(args, swift_exe, c_exe, bson_dir)
    finished = datetime.datetime.now(datetime.timezone.utc)

    codec, lookups, ceiling = analyse(samples["cpu"], keys)
    wall_codec, wall_lookups, wall_ceiling = analyse(samples["wall"], keys)
    config = {"rounds": args.rounds, "ops": args.ops, "warmup": args.warmup}
    codable = analyse_codable(samples["cpu"])
    wall_codable = analyse_codable(samples["wall"])
    table = markdown(codec, lookups, ceiling, config, wall_codec) + "\n" + codable_markdown(codable, wall_codable)
    print(table)

    report = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "machine": machine(args.swift) | {"loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "config": config,
        "documents": documents,
        "cpu_time": {"codec": codec, "lookups": lookups, "c_ceiling": ceiling, "codable": codable},
        "wall_clock": {"codec": wall_codec, "lookups": wall_lookups, "c_ceiling": wall_ceiling, "codable": wall_codable},
        "samples_docs_per_s": samples,
        "markdown": table,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    print(f"\ncompare_codec: wrote {args.json} ({report['duration_s']} s of measurement, load average "
          f"{load_before[0]:.2f} before, {report['machine']['loadavg_after'][0]:.2f} after)", file=sys.stderr)


if __name__ == "__main__":
    main()
