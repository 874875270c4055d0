# Thin entry points: each target installs what it needs (Debian packages), configures and builds.
JOBS ?= $(shell nproc)
PRESET ?= release
BUILD := build/$(PRESET)

# Seconds each fuzzer runs in `make fuzz`.
FUZZ_SECONDS ?= 60

.PHONY: deps build test fuzz-build fuzz test-asan demo bench soak clean

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

# The chaos verifier for minutes instead of one: more workers, more days, more kills
# (tests/integration/chaos_test.cc lists the ALERTD_CHAOS_* parameters; set one to override it).
SOAK_SECONDS ?= 240
soak: build
	@ALERTD_CHAOS_SECONDS=$${ALERTD_CHAOS_SECONDS:-$(SOAK_SECONDS)} ALERTD_CHAOS_WORKERS=$${ALERTD_CHAOS_WORKERS:-2000} \
	  ALERTD_CHAOS_DAYS=$${ALERTD_CHAOS_DAYS:-42} $(BUILD)/tests/integration/integration_chaos_test

# The demo plays a simulated week in replay mode, then DEMO_SECONDS (default 20; 0 = none) of live readings.
# It builds only the programs it runs, not the tests.
DEMO_TARGETS := alertd alertd-kafka alertd-sim alertd-tail alertd-notify alertd-phone
demo: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS) --target $(DEMO_TARGETS)
	@BUILD=$(BUILD) bash deploy/demo.sh

bench: build
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build .demo .bench .bench-drain .bench-commit
