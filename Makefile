# swift-bson-socket — the two commands a new user runs:
#   make demo   builds the package and runs the demo
#   make test   runs the whole test suite (Swift tests and the Python interop peers)
# Both install what they need first (libbson-dev and pkg-config with apt-get, Python
# virtual environments with pip) when it is missing.

SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Python peers for the interop tests, each in its own environment: both packages own
# the module name `bson`.
PYBSON_VENV := .venv-pybson
PYMONGO_VENV := .venv-pymongo
PYBSON_VERSION := 0.5.10
PYMONGO_VERSION := 4.20.1
# matplotlib for the benchmark report's bar charts (bench-results/report.png).
BENCH_VENV := .venv-bench
MATPLOTLIB_VERSION := 3.11.2

.PHONY: demo test deps venvs build release clean

demo: deps
	$(SWIFT) build -c release --product bson-socket
	$$($(SWIFT) build -c release --show-bin-path)/bson-socket demo

test: deps venvs
	$(SWIFT) build --build-tests
	BSON_SOCKET_PYBSON=$(CURDIR)/$(PYBSON_VENV)/bin/python \
	BSON_SOCKET_PYMONGO=$(CURDIR)/$(PYMONGO_VENV)/bin/python \
	$(SWIFT) test --skip-build

# libbson's headers and the pkg-config program SwiftPM uses to find them.
deps:
	@if ! command -v pkg-config >/dev/null || ! pkg-config --exists libbson-1.0; then \
		echo "Installing libbson-dev and pkg-config (apt-get)"; \
		$(SUDO) apt-get install -y libbson-dev pkg-config \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y libbson-dev pkg-config; }; \
	fi

venvs: $(PYBSON_VENV)/.installed $(PYMONGO_VENV)/.installed

$(PYBSON_VENV)/.installed:
	rm -rf $(PYBSON_VENV)
	$(PYTHON) -m venv $(PYBSON_VENV)
	$(PYBSON_VENV)/bin/pip install --quiet --disable-pip-version-check bson==$(PYBSON_VERSION)
	touch $@

$(PYMONGO_VENV)/.installed:
	rm -rf $(PYMONGO_VENV)
	$(PYTHON) -m venv $(PYMONGO_VENV)
	$(PYMONGO_VENV)/bin/pip install --quiet --disable-pip-version-check pymongo==$(PYMONGO_VERSION)
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

clean:
	rm -rf .build .build-asan .build-tsan $(PYBSON_VENV) $(PYMONGO_VENV) $(BENCH_VENV)

# The codec benchmark: our Swift codec against pymongo's C codec (and raw libbson from C),
# in one interleaved run. Prints Markdown tables; writes Benchmarks/results/codec.json.
# The ordo-one/package-benchmark suite runs with:
#   cd Benchmarks && swift package --scratch-path .build-bench benchmark
.PHONY: bench-codec
bench-codec: deps venvs
	$(PYTHON) Benchmarks/compare_codec.py --swift $(SWIFT)

# The full-size load test of the SwiftNIO server: 1,000 concurrent clients × 1,000 documents
# each through `bson-socket serve --engine nio`, every reply checked; prints the time and the
# server's peak RSS. Release build; loopback only; bounded in time.
.PHONY: load-test
load-test: deps
	$(SWIFT) build -c release --build-tests
	BSON_SOCKET_LOAD=full $(SWIFT) test -c release --skip-build --filter BSONSocketNIOTests.LoadTests

# The transport benchmark: BSONSocket receiving a loopback stream of ~1 KB and ~1 MiB
# documents against py-bson's recvobj, pymongo with Python framing and a C/libbson
# receiver; ping-pong latency; syscalls per document (perf stat, or strace). One
# interleaved run; prints Markdown tables; writes Benchmarks/results/transport.json.
.PHONY: bench-transport
bench-transport: deps venvs
	$(PYTHON) Benchmarks/compare_transport.py --swift $(SWIFT)

# Hostile peers at full size against `bson-socket serve`, both engines: 1,000 slow-loris frames
# (16 MiB headers, then a byte a second), 10,000 idle connections, 1,000,000 minimal documents,
# 200 garbage connections; prints the server's resident memory after each phase. Then the
# in-process hostile suites with 5,000 idle connections. Release build; loopback only; bounded.
.PHONY: hostile-test
hostile-test: deps
	$(SWIFT) build -c release --build-tests
	BSON_SOCKET_HOSTILE=full $(SWIFT) test -c release --skip-build \
		--filter 'HostileServeTests|HostilePeerTests|HostilePeerNIOTests'

# The suite under AddressSanitizer, then under ThreadSanitizer, each in its own build folder
# (.build-asan, .build-tsan). The Python interop suites are left out (they test the peers'
# bytes, not our memory or threads), and under ThreadSanitizer the load test too (its
# 10,000 connections take minutes there); the concurrent sendObj, threaded-server and NIO
# server suites run under both.
SANITIZE_SKIP := InteropTests
.PHONY: test-sanitize test-asan test-tsan
test-sanitize: test-asan test-tsan

# SWIFT_BACKTRACE=enable=no: the Swift runtime's crash backtracer reads raw memory, which the
# sanitizers report as errors of their own when a test's child process traps on purpose.
test-asan: deps
	$(SWIFT) build --build-tests --scratch-path .build-asan --sanitize=address
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/asan.supp \
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp \
	$(SWIFT) test --skip-build --scratch-path .build-asan --sanitize=address --skip '$(SANITIZE_SKIP)'

# -DBSON_SOCKET_PTHREAD_LOCKS: ThreadSanitizer cannot follow Synchronization.Mutex on Linux (the
# lock changes hands in the kernel), so this build locks with pthread mutexes instead; see
# Sources/BSONCodec/PackageMutex.swift.
TSAN_FLAGS := --sanitize=thread -Xswiftc -DBSON_SOCKET_PTHREAD_LOCKS
test-tsan: deps
	$(SWIFT) build --build-tests --scratch-path .build-tsan $(TSAN_FLAGS)
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	$(SWIFT) test --skip-build --scratch-path .build-tsan $(TSAN_FLAGS) --skip '$(SANITIZE_SKIP)|LoadTests'

# Fuzzing (libFuzzer + AddressSanitizer): builds the targets of Fuzz/ and runs each for
# SECONDS seconds (default 60), or RUNS executions; prints executions per target. Seeds are
# in Fuzz/Corpus/, what the runs find goes to fuzz-out/ (ignored). See Fuzz/README.md.
#   make fuzz SECONDS=300      make fuzz RUNS=10000000      make fuzz TARGETS=fuzz-view
.PHONY: fuzz
fuzz: deps
	Fuzz/run.sh $(if $(SECONDS),--seconds $(SECONDS)) $(if $(RUNS),--runs $(RUNS)) $(TARGETS)

# The benchmark suite and its report: codec tasks (BSONBench style) and transport tasks, our
# Swift code against pymongo, py-bson, libbson (from Swift and from C) and Foundation's JSON,
# in one interleaved run. Writes bench-results/results.json, report.md and report.png.
#   make bench            the full run
#   make bench QUICK=1    fewer rounds and operations: under 3 minutes once built
.PHONY: bench bench-check bench-thresholds
bench: deps venvs $(BENCH_VENV)/.installed
	$(PYTHON) Benchmarks/bench.py $(if $(QUICK),--quick) --swift $(SWIFT)

$(BENCH_VENV)/.installed:
	rm -rf $(BENCH_VENV)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check matplotlib==$(MATPLOTLIB_VERSION)
	touch $@

# The ordo-one/package-benchmark suite (Benchmarks/Benchmarks/CodecBenchmarks) against the
# static p90 thresholds in Benchmarks/Thresholds/: fails when a benchmark's p90 malloc count
# moves past its tolerance (2 %, at least 200 allocations per 10,000 operations). Only malloc
# counts are kept in the threshold files: on the shared 2-core machines this runs on, time
# p90s of unchanged code moved by up to 6x between two runs, so a time threshold would fail
# at random; speed is judged by `make bench`'s ratios within one run instead.
bench-check: deps
	cd Benchmarks && $(SWIFT) package --scratch-path .build-bench benchmark thresholds check --path Thresholds

# Records new p90 thresholds (after a deliberate change; commit Benchmarks/Thresholds/),
# keeping the malloc counts only (see bench-check).
bench-thresholds: deps
	cd Benchmarks && $(SWIFT) package --scratch-path .build-bench --allow-writing-to-package-directory \
		benchmark thresholds update --path Thresholds
	$(PYTHON) -c 'import glob, json, sys; [json.dump({"mallocCountTotal": json.load(open(p))["mallocCountTotal"]}, open(p + ".tmp", "w"), indent=2) or __import__("os").replace(p + ".tmp", p) for p in glob.glob("Benchmarks/Thresholds/*.p90.json")]'
