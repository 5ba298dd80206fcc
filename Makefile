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
LIBDIR  = $(or $(CARGO_TARGET_DIR),target)/$(PROFILE)
LIB     = $(LIBDIR)/libprovision.so
BUILD   = build/$(PROFILE)
CFLAGS_STRICT   = -Wall -Wextra -Werror -std=c11 -Iinclude
CXXFLAGS_STRICT = -Wall -Wextra -Werror -std=c++17 -Iinclude
LINK    = -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lprovision
# Memcheck for the lifecycle's C test: any error or leak fails it.
VALGRIND ?= valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,possible \
            --errors-for-leak-kinds=definite,possible --suppressions=tests/c/valgrind.supp

.PHONY: all help deps lib header check-header check-symbols test test-rust test-c test-c-refresh test-cpp test-python demo bench clean

all: lib

# Install, ABI check, Debian packages, the Python package (mk/package.mk);
# the C++ wrapper's test and the C++ example (mk/cpp.mk).
include mk/package.mk mk/cpp.mk

help:
	@echo "make demo    build, start a provisioning server on loopback, provision through the C ABI"
	@echo "make test    every suite: Rust, C, C++, Python, plus header and symbol checks"
	@echo "make lib     build $(LIB) (PROFILE=release for the optimised build)"
	@echo "make header  regenerate include/provision.h"
	@echo "make bench   merge and run timings against lxml, ElementTree, quick-xml; writes BENCHMARKS.md"

# Programs linked here record the SONAME, libprovision.so.MAJOR: the link
# beside the build output lets them run from the tree.
lib:
	$(CARGO) build --lib $(CARGO_PROFILE_FLAG)
	ln -sf libprovision.so $(LIBDIR)/$(SONAME)

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

test: deps check-header check-symbols check-abi test-rust test-c test-c-refresh test-cpp test-cpp-wrapper \
      test-example test-python check-install check-python-package

test-rust:
	$(CARGO) test $(CARGO_PROFILE_FLAG)

$(BUILD):
	mkdir -p $@

$(BUILD)/test_provision: tests/c/test_provision.c tests/c/check.h include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -o $@ $< $(LINK)

$(BUILD)/test_refresh: tests/c/test_refresh.c tests/c/check.h include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -pthread -o $@ $< $(LINK)

$(BUILD)/test_header_cpp: tests/cpp/test_header.cpp include/provision.h lib | $(BUILD)
	$(CXX) $(CXXFLAGS_STRICT) -o $@ $< $(LINK)

$(BUILD)/demo: examples/demo.c include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -o $@ $< $(LINK)

test-c: $(BUILD)/test_provision
	$(PYTHON) tests/c/harness.py $(BUILD)/test_provision

# Threads, callbacks, and stop or free from inside them: where memory errors
# would hide, so this one runs under valgrind.
test-c-refresh: $(BUILD)/test_refresh
	TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/refresh_harness.py $(BUILD)/test_refresh

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
	$(MAKE) lib PROFILE=release
	cd bench && $(CARGO) run --release -- \
	  --lib $(abspath $(or $(CARGO_TARGET_DIR),target)/release/libprovision.so) \
	  --python $(PYTHON) --out $(abspath BENCHMARKS.md) $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf build
