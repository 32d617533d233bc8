"""What the codec workers (pymongo_codec.py, pybson_codec.py) share: timing with malloc
counts, and the "TASK OPS WARMUP" request loop that bench.py drives.

It imports no bson module: each worker runs in its own virtual environment, where `bson` is
pymongo's or py-bson's, and imports this file from its own folder.
"""

import json
import sys
import time


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


def timed_counting(operation, argument, ops, warmup):
    """(wall ns, CPU ns, malloc calls or None) of `ops` operations after `warmup` untimed."""
    for _ in range(warmup):
        operation(argument)
    before = MALLOCS() if MALLOCS else 0
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(ops):
        operation(argument)
    ns, cpu_ns = time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu
    return ns, cpu_ns, (MALLOCS() - before if MALLOCS else None)


def serve(side, tasks, extra=None):
    """Answers "TASK OPS WARMUP" lines until end of input or "quit" (at most a million).

    `tasks` maps a task name (decode/flat, say) to (operation, argument); each answer is one
    JSON line, with the fields `extra(task)` returns added when `extra` is given.
    """
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
        ns, cpu_ns, mallocs = timed_counting(operation, argument, ops, warmup)
        record = {"side": side, "task": words[0], "ops": ops, "ns": ns, "cpu_ns": cpu_ns}
        if extra:
            record.update(extra(words[0]))
        if mallocs is not None:
            record["mallocs"] = mallocs
        print(json.dumps(record), flush=True)
