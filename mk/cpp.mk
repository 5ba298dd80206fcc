# The C++ wrapper (bindings/cpp/provision.hpp) and the C++ example,
# included by the Makefile.

CXXFLAGS_WRAPPER = $(CXXFLAGS_STRICT) -Ibindings/cpp

.PHONY: test-cpp-wrapper test-example example

$(BUILD)/test_wrapper_cpp: tests/cpp/test_wrapper.cpp tests/cpp/support.hpp bindings/cpp/provision.hpp include/provision.h lib | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

$(BUILD)/softphone: examples/softphone.cpp bindings/cpp/provision.hpp include/provision.h lib | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

example: $(BUILD)/softphone

test-cpp-wrapper: $(BUILD)/test_wrapper_cpp
	$(PYTHON) tests/c/harness.py $(BUILD)/test_wrapper_cpp

# The example's start-up scenarios: fallback, merge, store, the credential
# prompt, the server's error text, an invalid provision file.
test-example: $(BUILD)/softphone
	$(PYTHON) tests/cpp/softphone.py $(BUILD)/softphone
