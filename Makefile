# The two commands of the README:
#   make run   installs dependencies, builds the release binary, starts `sider dev`
#   make test  installs dependencies, builds, runs every test
# Sub-targets are for developers.
SHELL := /bin/bash
PYTEST := /usr/bin/python3 -m pytest
SIDER_BIN := $(CURDIR)/build/release/src/app/sider

.PHONY: all setup release debug tsa run test unit integration bench clean

all: release

setup:
	bash scripts/setup.sh

release: setup
	cmake --preset release >/dev/null
	cmake --build --preset release

debug: setup
	cmake --preset debug >/dev/null
	cmake --build --preset debug

tsa: setup
	cmake --preset tsa >/dev/null
	cmake --build --preset tsa

run: release
	$(SIDER_BIN) dev

# Unit tests run under ASan/UBSan; integration tests start the release binary.
unit: debug
	ctest --test-dir build/debug --output-on-failure -j2

integration: release
	SIDER_BIN=$(SIDER_BIN) $(PYTEST) -q tests/integration

test: unit integration

# Sider beside 3-member etcd and ZooKeeper clusters (docs/benchmarks.md).
# bench/setup.sh installs the peers; cmake is re-run so that the load
# generator finds libzookeeper-mt-dev. BENCH_ARGS: e.g. --only register.
bench: setup
	bash bench/setup.sh
	cmake --preset release >/dev/null
	cmake --build --preset release --target sider sider-loadgen
	bash bench/run --no-setup $(BENCH_ARGS)

clean:
	rm -rf build
