# Packaging, included by the Makefile: install, the ABI check, the Debian
# packages and the Python package.

# The one version, the crate's (Cargo.toml): provision_version(), the .pc
# file, the packages, the file name libprovision.so.$(ABI_VERSION) and the
# SONAME libprovision.so.$(ABI_MAJOR) (docs/ABI.md).
VERSION     := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
ABI_VERSION := $(VERSION)
ABI_MAJOR   := $(firstword $(subst ., ,$(ABI_VERSION)))
SONAME       = libprovision.so.$(ABI_MAJOR)

# Where `make install` puts things (GNU names). On Debian and derivatives
# the library goes to the multiarch folder, e.g. /usr/lib/x86_64-linux-gnu.
PREFIX     ?= /usr/local
DESTDIR    ?=
MULTIARCH  ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $(CC) -print-multiarch 2>/dev/null)
libdir     ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig

# What `make install` builds unless told otherwise: the optimised library.
install: PROFILE = release

.PHONY: install uninstall check-abi check-install check-python-package deb check-deb

# The headers go to their own folder, PREFIX/include/provision, and the .pc
# file's -I points there: `#include <provision.h>` with pkg-config, or
# `#include <provision/provision.h>` without (docs/packaging.md says why).
# Installing into the running system (no DESTDIR) as root refreshes the
# loader's cache, so programs find libprovision.so.1 at once.
install: lib
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)/provision $(DESTDIR)$(pkgconfigdir)
	install -m 0644 $(LIB) $(DESTDIR)$(libdir)/libprovision.so.$(ABI_VERSION)
	ln -sf libprovision.so.$(ABI_VERSION) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf libprovision.so.$(ABI_VERSION) $(DESTDIR)$(libdir)/libprovision.so
	install -m 0644 include/provision.h bindings/cpp/provision.hpp $(DESTDIR)$(includedir)/provision
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(libdir))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(includedir))|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    provision.pc.in > $(DESTDIR)$(pkgconfigdir)/provision.pc
	chmod 0644 $(DESTDIR)$(pkgconfigdir)/provision.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
	  echo "ldconfig"; PATH="$$PATH:/sbin:/usr/sbin" ldconfig; \
	fi

uninstall:
	rm -f $(DESTDIR)$(libdir)/libprovision.so.$(ABI_VERSION) $(DESTDIR)$(libdir)/$(SONAME) \
	      $(DESTDIR)$(libdir)/libprovision.so $(DESTDIR)$(pkgconfigdir)/provision.pc \
	      $(DESTDIR)$(includedir)/provision/provision.h $(DESTDIR)$(includedir)/provision/provision.hpp
	-rmdir $(DESTDIR)$(includedir)/provision 2>/dev/null

# The exported symbols against debian/libprovision1.symbols, the one list of
# the ABI: a symbol that disappears (or appears unlisted) fails, and so does
# a SONAME that does not match the ABI version.
check-abi: lib
	$(PYTHON) tests/packaging/check_abi.py $(LIB) debian/libprovision1.symbols $(SONAME)

# `make install` into a temporary prefix, then the C++ example built with
# nothing but `pkg-config --cflags --libs provision` and run against a
# loopback server. The debug build: one compile serves every suite.
check-install: lib
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory install PROFILE=$(PROFILE) PREFIX=$$tmp/usr >/dev/null && \
	$(MAKE) --no-print-directory install PROFILE=$(PROFILE) PREFIX=/usr DESTDIR=$$tmp/staged >/dev/null && \
	$(PYTHON) tests/packaging/check_installed.py --prefix $$tmp/usr --staged $$tmp/staged --multiarch "$(MULTIARCH)" --abi-version $(ABI_VERSION)

# `pip install ./bindings/python` into a fresh venv with no PROVISION_LIBRARY
# (pip compiles the release library and bundles it; cargo reuses target/),
# then `import provision`, `python -m provision run` and the `provision`
# console script from there against a loopback server; and `pip wheel`.
check-python-package:
	$(PYTHON) tests/packaging/check_python_package.py

# The Debian packages (libprovision1, libprovision-dev, python3-provision,
# libprovision1-dbgsym), built as a build daemon would: from a copy of the
# tree without target/, vendored there (`make vendor`, the one step that may
# use the network), then by dpkg-buildpackage with an empty CARGO_HOME,
# cargo --offline --locked and, where allowed (root), no network at all
# (unshare -n). The profile pkg.libprovision.rustup says the toolchain is not
# Debian's (debian/control). The release build is kept in build/deb-target.
comma   := ,
DEB_DIR  = build/deb
DEB_SRC = $(DEB_DIR)/libprovision-$(VERSION)
NO_NETWORK = $(shell unshare -n true 2>/dev/null && echo unshare -n)
deb:
	bash .ci/install-deps --deb
	rm -rf $(DEB_SRC) && mkdir -p $(DEB_SRC)
	tar -c --exclude=./target --exclude=./build --exclude=./.git --exclude=./bindings/python/build \
	    --exclude=./vendor --exclude=./.cargo --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache . \
	    | tar -x -C $(DEB_SRC)
	$(MAKE) -C $(DEB_SRC) --no-print-directory vendor
	rm -f $(DEB_DIR)/*.deb $(DEB_DIR)/*.changes $(DEB_DIR)/*.buildinfo
	empty=$$(mktemp -d) && trap 'rm -rf "$$empty"' EXIT && cd $(DEB_SRC) && \
	    start=$$(date +%s) && \
	    CARGO_HOME=$$empty CARGO_NET_OFFLINE=true CARGO_TARGET_DIR=$(abspath build/deb-target) \
	    $(NO_NETWORK) dpkg-buildpackage -b -us -uc -Ppkg.libprovision.rustup && \
	    echo "deb: built offline (empty CARGO_HOME$(if $(NO_NETWORK),$(comma) no network)) in $$(($$(date +%s) - start)) s"
	@ls -1 $(DEB_DIR)/*.deb

# Lintian on the packages (errors fail, warnings are listed), then, where
# that is allowed (CI=true, or root), install them and build and run the
# C++ example against the installed library with pkg-config alone.
check-deb: deb
	lintian --fail-on error,warning --display-info --tag-display-limit 0 $(DEB_DIR)/*.changes
	@if [ "$${CI:-}" = true ] || [ "$$(id -u)" -eq 0 ]; then \
	  $(PYTHON) tests/packaging/check_deb.py $(DEB_DIR); \
	else \
	  echo "check-deb: not installing the packages (neither CI=true nor root)"; \
	fi
