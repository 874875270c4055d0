# Thin entry points: each target installs what it needs (Debian packages), configures and builds.
JOBS ?= $(shell nproc)
PRESET ?= release
BUILD := build/$(PRESET)

# Seconds each fuzzer runs in `make fuzz`.
FUZZ_SECONDS ?= 60

.PHONY: deps build test fuzz-build fuzz test-asan demo bench clean

deps:
	@bash deploy/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The tests, then every fuzzer for 10 s from its seed corpus (tests/fuzz/corpus).
test: build fuzz-build
	@ctest --preset $(PRESET) -j 2 --timeout 600
	@bash tests/fuzz/run.sh --fresh 10

# The input decoders' fuzzers (clang, libFuzzer, ASan, UBSan) in build/fuzz.
fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

# Each fuzzer for FUZZ_SECONDS, from its seeds and what earlier runs found; a crash fails and leaves
# its reproducer in build/fuzz/crashes.
fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The unit tests (every *_test target but integration_*) under ASan and UBSan in build/asan; any
# finding fails the test.
test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS) --target $$(cmake --build build/asan --target help | \
	  sed -nE 's/^(\.\.\. )?([a-z0-9_]+_test)(: .*)?$$/\2/p' | grep -v '^integration_')
	@UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan-unit -j 2 --timeout 600

# The demo plays a simulated week in replay mode, then DEMO_SECONDS (default 20; 0 = none) of live readings.
demo: build
	@BUILD=$(BUILD) bash deploy/demo.sh

bench: build
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build .demo .bench
