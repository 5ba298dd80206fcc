# `make fleet`: a fleet of softphones against one provisioning server
# (bench/fleet, docs/fleet.md). N handles of the release libprovision.so run
# their refresh workers against a loopback server that logs every arrival,
# in scenarios (start-up, outages with and without Retry-After, check-sync,
# steady state with conditional GET); bench/fleet/report.py writes the
# "Fleet" section of BENCHMARKS.md and a plot per scenario. A few minutes;
# never part of `make test`. FLEET_ARGS: e.g. `--handles 100 --only startup`.

FLEET_ARGS ?=
FLEET_RUN   = build/fleet
FLEET_PLOTS = bench/fleet/plots
FLEET_BIN   = $(or $(CARGO_TARGET_DIR),target)/release/provision-fleet

.PHONY: fleet check-format-fleet

fleet:
	PYTHON=$(PYTHON) bash bench/install-deps matplotlib
	$(MAKE) lib PROFILE=release
	cd bench/fleet && $(CARGO) build --release
	rm -rf $(FLEET_RUN) && mkdir -p $(FLEET_RUN)
	$(FLEET_BIN) --lib $(abspath $(or $(CARGO_TARGET_DIR),target)/release/libprovision.so) --out $(FLEET_RUN) $(FLEET_ARGS)
	$(PYTHON) bench/fleet/report.py $(FLEET_RUN) $(FLEET_PLOTS) BENCHMARKS.md

# The simulator's Rust keeps the tree's style too.
check-format: check-format-fleet
check-format-fleet:
	cd bench/fleet && $(CARGO) fmt --check
