# libprovision: build, test, demo. `make help` lists the targets.
#
# Tests and the demo use the debug build (one compile for every suite); the
# release profile (LTO, one codegen unit) is for install and benchmarks.

CARGO   ?= cargo
PYTHON  ?= python3
CC      ?= cc
CXX     ?= c++
PROFILE ?= debug

CARGO_PROFILE_FLAG = $(if $(filter release,$(PROFILE)),--release,)
LIBDIR  = target/$(PROFILE)
LIB     = $(LIBDIR)/libprovision.so
BUILD   = build/$(PROFILE)
CFLAGS_STRICT   = -Wall -Wextra -Werror -std=c11 -Iinclude
CXXFLAGS_STRICT = -Wall -Wextra -Werror -std=c++17 -Iinclude
LINK    = -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lprovision

.PHONY: all help deps lib header check-header check-symbols test test-rust test-c test-cpp test-python demo bench clean

all: lib

help:
	@echo "make demo    build, start a provisioning server on loopback, provision through the C ABI"
	@echo "make test    every suite: Rust, C, C++, Python, plus header and symbol checks"
	@echo "make lib     build $(LIB) (PROFILE=release for the optimised build)"
	@echo "make header  regenerate include/provision.h"
	@echo "make bench   merge and run timings against lxml, ElementTree, quick-xml; writes BENCHMARKS.md"

lib:
	$(CARGO) build --lib $(CARGO_PROFILE_FLAG)

# build.rs rewrites include/provision.h whenever the Rust side changes.
header: lib

# The committed header must be what cbindgen writes from the sources.
check-header: lib
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/provision.h \
	  || { echo "include/provision.h is stale: commit the regenerated header"; exit 1; }; \
	fi

# Nothing but the C API may be exported.
check-symbols: lib
	@extra=$$(nm -D --defined-only $(LIB) | awk '{print $$3}' | grep -v '^provision_' || true); \
	if [ -n "$$extra" ]; then echo "exported symbols outside provision_*:"; echo "$$extra"; exit 1; fi; \
	echo "exports: $$(nm -D --defined-only $(LIB) | grep -c ' provision_') provision_* symbols, nothing else"

deps:
	bash .ci/install-deps

test: deps check-header check-symbols test-rust test-c test-cpp test-python

test-rust:
	$(CARGO) test $(CARGO_PROFILE_FLAG)

$(BUILD):
	mkdir -p $@

$(BUILD)/test_provision: tests/c/test_provision.c include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -o $@ $< $(LINK)

$(BUILD)/test_header_cpp: tests/cpp/test_header.cpp include/provision.h lib | $(BUILD)
	$(CXX) $(CXXFLAGS_STRICT) -o $@ $< $(LINK)

$(BUILD)/demo: examples/demo.c include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -o $@ $< $(LINK)

test-c: $(BUILD)/test_provision
	$(PYTHON) tests/c/harness.py $(BUILD)/test_provision

test-cpp: $(BUILD)/test_header_cpp
	$(PYTHON) tests/c/harness.py $(BUILD)/test_header_cpp

test-python: lib
	PROVISION_LIBRARY=$(abspath $(LIB)) $(PYTHON) -m pytest -q bindings/python/tests

demo: $(BUILD)/demo
	$(PYTHON) examples/demo.py $(BUILD)/demo

# Never part of `make test`: timings belong here, on the release build.
# BENCH_ARGS=--quick for a short smoke run.
bench:
	PYTHON=$(PYTHON) bash bench/install-deps
	$(CARGO) build --release --lib
	cd bench && $(CARGO) run --release -- \
	  --lib $(abspath target/release/libprovision.so) --python $(PYTHON) --out $(abspath BENCHMARKS.md) $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf build
