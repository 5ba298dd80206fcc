# Distribution readiness (docs/packaging.md): licences, the offline vendored
# build, no bundled CA list. Included by the Makefile.

.PHONY: third-party-notices check-licenses vendor unvendor check-no-bundled-roots check-built-library

# Both checks are part of `make test`; the library they look at is the
# suites' build (with the test hooks), so that they cause no rebuild.
test: check-licenses check-no-bundled-roots
check-no-bundled-roots: CARGO_FEATURES = --features test-hooks

# THIRD-PARTY-NOTICES.txt (the crates linked into the library, with their
# licence texts) and debian/copyright (DEP-5, every crate of Cargo.lock),
# both generated from Cargo.lock by tools/third_party.py.
third-party-notices:
	$(PYTHON) tools/third_party.py write

# Part of `make test`: fails when Cargo.lock gained, lost or moved a crate
# since the two files were generated, or when a crate's licence is one that
# tools/licenses/ does not cover.
check-licenses:
	$(PYTHON) tools/third_party.py check

# Every crate of Cargo.lock into vendor/ (one folder per crate and version),
# and .cargo/config.toml pointing cargo at it: the tree then builds with
# `cargo build --offline --locked` and an empty CARGO_HOME, as a build daemon
# must. Both are left out of git; `make unvendor` removes them (bench/ and
# fuzz/ have their own dependencies and do not build while they are there).
VENDOR_DIR = vendor
vendor:
	$(CARGO) vendor --locked --versioned-dirs $(VENDOR_DIR) > $(VENDOR_DIR).config.toml.tmp
	mkdir -p .cargo
	{ echo "# Written by make vendor: crates come from $(VENDOR_DIR)/, never from the network."; \
	  cat $(VENDOR_DIR).config.toml.tmp; } > .cargo/config.toml
	rm -f $(VENDOR_DIR).config.toml.tmp
	@echo "vendor: $$(ls $(VENDOR_DIR) | wc -l) crates in $(VENDOR_DIR)/ ($$(du -sh $(VENDOR_DIR) | cut -f1)), .cargo/config.toml replaces crates.io"

unvendor:
	rm -rf $(VENDOR_DIR) .cargo/config.toml
	-rmdir .cargo 2>/dev/null

# No CA list compiled into the library: the system's store is the only one
# (src/tls.rs). webpki-roots must not be in the build graph, and `strings`
# must find none of a few well-known roots' names in the library
# (tests/packaging/check_no_bundled_roots.py).
check-no-bundled-roots: lib
	@if $(CARGO) tree --locked -e normal -i webpki-roots >/dev/null 2>&1; then \
	  echo "not ok - webpki-roots is linked (ureq's rustls feature?): $$($(CARGO) tree -e normal -i webpki-roots | head -3)"; exit 1; fi
	$(PYTHON) tests/packaging/check_no_bundled_roots.py $(LIB)

# The library as already built, with no build step of its own: the exports
# against debian/libprovision1.symbols and no bundled CA list. For
# debian/rules (dh_auto_test, PROFILE=release), where check-abi's own build
# would use other features.
check-built-library:
	$(PYTHON) tests/packaging/check_abi.py $(LIB) debian/libprovision1.symbols $(SONAME)
	$(PYTHON) tests/packaging/check_no_bundled_roots.py $(LIB)
