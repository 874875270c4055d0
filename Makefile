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

# DEMO_SECONDS=0 keeps the demo running until Ctrl-C.
demo: build
	@BUILD=$(BUILD) bash deploy/demo.sh

bench: build
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build .demo .bench
