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

bench: release
	bash bench/run

clean:
	rm -rf build
