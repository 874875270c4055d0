# Thin entry points: each target installs what it needs (Debian packages), configures and builds.
JOBS ?= $(shell nproc)
PRESET ?= release
BUILD := build/$(PRESET)

.PHONY: deps build test demo bench clean

deps:
	@bash deploy/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	@ctest --preset $(PRESET) -j 2 --timeout 600

# The demo plays a simulated week in replay mode, then DEMO_SECONDS (default 20; 0 = none) of live readings.
demo: build
	@BUILD=$(BUILD) bash deploy/demo.sh

bench: build
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build .demo .bench
