# libprovision: build, test, demo. `make help` lists the targets.
#
# Tests and the demo use the debug build (one compile for every suite); the
# release profile (LTO, one codegen unit) is for install and benchmarks.

SHELL   := /bin/bash
CARGO   ?= cargo
PYTHON  ?= python3
CC      ?= cc
CXX     ?= c++
PROFILE ?= debug

CARGO_PROFILE_FLAG = $(if $(filter release,$(PROFILE)),--release,)
CARGO_FEATURES ?=
LIBDIR  = $(or $(CARGO_TARGET_DIR),target)/$(PROFILE)
LIB     = $(LIBDIR)/libprovision.so
BUILD   = build/$(PROFILE)
CFLAGS_STRICT   = -Wall -Wextra -Werror -std=c11 -Iinclude
CXXFLAGS_STRICT = -Wall -Wextra -Werror -std=c++17 -Iinclude
LINK    = -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lprovision
# Memcheck for the C and C++ suites: any memory error or leak (definite,
# indirect or possible) fails them. `make test VALGRIND=` runs them bare.
VALGRIND ?= valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --suppressions=tests/c/valgrind.supp

.PHONY: all help deps lib header check-header check-format check-symbols test test-rust test-c test-c-refresh test-cpp test-python \
        test-logs check-secrets fuzz demo bench clean

# The suites run against a build with the test hooks (src/test_hooks.rs): a
# panic forced inside the ABI boundary, and a record of every error message
# and log line the library makes, which check-secrets searches with the
# suites' output. (check-install and the packages build without them.)
TEST_TARGETS = test test-rust test-c test-c-refresh test-cpp test-cpp-wrapper test-cpp-refresh test-example \
               test-python check-header check-symbols check-abi check-secrets \
               test-addressbook test-c-addressbook test-cpp-addressbook test-addressbook-sanitized test-quickstart
TEST_LOGS    = build/test-logs
$(TEST_TARGETS): CARGO_FEATURES = --features test-hooks
$(TEST_TARGETS): export PROVISION_TEST_MESSAGES = $(abspath $(TEST_LOGS)/messages.log)
# A suite's output, also kept for check-secrets.
LOGGED = set -o pipefail; mkdir -p $(TEST_LOGS);
TO_LOG = 2>&1 | tee -a $(TEST_LOGS)/output.log

all: lib

# Install, ABI check, Debian packages, the Python package (mk/package.mk);
# the C++ wrapper's test and the C++ example (mk/cpp.mk); the sanitizer
# builds and the race suite (mk/abi.mk); the fleet simulator (mk/fleet.mk);
# the addressbook's C and C++ tests (mk/addressbook.mk); the Python wheel
# (mk/python.mk).
include mk/package.mk mk/cpp.mk mk/abi.mk mk/fleet.mk mk/addressbook.mk mk/python.mk

help:
	@echo "make demo    build, start a provisioning server on loopback, provision through the C ABI"
	@echo "make test    every suite: Rust, C, C++, Python, plus header and symbol checks"
	@echo "make lib     build $(LIB) (PROFILE=release for the optimised build)"
	@echo "make header  regenerate include/provision.h (make check-header: the committed one is current)"
	@echo "make install install the release library, header and provision.pc (PREFIX, DESTDIR; make uninstall)"
	@echo "make test-asan    the C and C++ suites again under ASan+UBSan (part of make test)"
	@echo "make test-race    every thread promise of the header raced, under the sanitizers (part of make test)"
	@echo "make test-addressbook  the addressbook's C and C++ tests, also under the sanitizers (part of make test)"
	@echo "make example the C++ example softphone (bindings/cpp/provision.hpp)"
	@echo "make fuzz    run each fuzz target for FUZZ_SECONDS (default 60; not part of make test)"
	@echo "make third-party-notices  regenerate THIRD-PARTY-NOTICES.txt and debian/copyright from Cargo.lock"
	@echo "make vendor  crates into vendor/ for an offline, locked build (make unvendor undoes it)"
	@echo "make deb     the Debian packages, built offline from a vendored copy (make check-deb: + lintian, install)"
	@echo "make bench   merge and run timings against lxml, ElementTree, quick-xml; writes BENCHMARKS.md"
	@echo "make fleet   400 handles refreshing against one loopback server; the Fleet section of BENCHMARKS.md"
	@echo "make python-wheel  a platform wheel of the Python package with the library inside, into build/wheels"

# Programs linked here record the SONAME, libprovision.so.MAJOR: the link
# beside the build output lets them run from the tree.
lib:
	$(CARGO) build --lib $(CARGO_PROFILE_FLAG) $(CARGO_FEATURES)
	ln -sf libprovision.so $(LIBDIR)/$(SONAME)

# include/provision.h, written by cbindgen from the doc comments of src/ffi/
# and src/error.rs. cbindgen is not installed: it is a dev-dependency pinned
# to one release (Cargo.toml, Cargo.lock), run by tests/header.rs, so every
# machine writes the same header and `cargo build` never writes into the tree.
header:
	PROVISION_WRITE_HEADER=1 $(CARGO) test $(CARGO_FEATURES) --test header -q

# The committed header must be what cbindgen writes from the sources.
check-header:
	$(CARGO) test $(CARGO_FEATURES) --test header -q

# The Rust code keeps the style of rustfmt.toml: `cargo fmt` applies it.
check-format:
	$(CARGO) fmt --check
	cd bench && $(CARGO) fmt --check

# Nothing but the C API may be exported.
check-symbols: lib
	@extra=$$(nm -D --defined-only $(LIB) | awk '{print $$3}' | grep -v '^provision_' || true); \
	if [ -n "$$extra" ]; then echo "exported symbols outside provision_*:"; echo "$$extra"; exit 1; fi; \
	echo "exports: $$(nm -D --defined-only $(LIB) | grep -c ' provision_') provision_* symbols, nothing else"

deps:
	bash .ci/install-deps

test: deps test-logs check-format check-header check-symbols check-abi test-rust test-c test-c-refresh test-cpp test-cpp-wrapper \
      test-cpp-refresh test-example test-addressbook test-asan test-race test-python test-quickstart check-secrets check-install check-python-package

test-logs:
	rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)

test-rust:
	$(LOGGED) $(CARGO) test $(CARGO_PROFILE_FLAG) $(CARGO_FEATURES) $(TO_LOG)

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
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/harness.py $(BUILD)/test_provision $(TO_LOG)

# Threads, callbacks, and stop or free from inside them: where memory errors
# would hide, so this one runs under valgrind.
test-c-refresh: $(BUILD)/test_refresh
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/refresh_harness.py $(BUILD)/test_refresh $(TO_LOG)

test-cpp: $(BUILD)/test_header_cpp
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/harness.py $(BUILD)/test_header_cpp $(TO_LOG)

test-python: lib
	$(LOGGED) PROVISION_LIBRARY=$(abspath $(LIB)) $(PYTHON) -m pytest -q bindings/python/tests $(TO_LOG)

# The README's quick start, as a reader runs it (tests/quickstart.py).
test-quickstart: lib
	$(LOGGED) $(PYTHON) tests/quickstart.py $(TO_LOG)

# No test password, plain or as its MD5, in any error message, log line or
# suite output.
check-secrets:
	$(PYTHON) tests/check_secrets.py tests/secrets.txt $(TEST_LOGS)/messages.log $(TEST_LOGS)/output.log

# Fuzzing (cargo-fuzz, libFuzzer): each target for FUZZ_SECONDS, starting from
# the committed seeds (fuzz/seeds) and the corpus of earlier runs (fuzz/corpus,
# not committed). Never part of `make test`. The stable toolchain is allowed the
# nightly flags cargo-fuzz needs (sanitizer) through RUSTC_BOOTSTRAP=1.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = provision_file answer merge
fuzz:
	command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	set -e; for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target; \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$target $(abspath fuzz)/corpus/$$target $(abspath fuzz)/seeds/$$target \
	    -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; \
	done

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

# Licences, the vendored offline build, no bundled CA list; adds its checks
# to `make test` (mk/pkg.mk).
include mk/pkg.mk
