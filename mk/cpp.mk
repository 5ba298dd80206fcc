# The C++ wrapper (bindings/cpp/provision.hpp) and the C++ example,
# included by the Makefile.

CXXFLAGS_WRAPPER = $(CXXFLAGS_STRICT) -Ibindings/cpp

WRAPPER_TEST_DEPS = tests/cpp/support.hpp tests/cpp/wrapper_support.hpp bindings/cpp/provision.hpp include/provision.h lib

.PHONY: test-cpp-wrapper test-cpp-refresh test-example example

$(BUILD)/test_wrapper_cpp: tests/cpp/test_wrapper.cpp $(WRAPPER_TEST_DEPS) | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

$(BUILD)/test_wrapper_refresh_cpp: tests/cpp/test_wrapper_refresh.cpp $(WRAPPER_TEST_DEPS) | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -pthread -o $@ $< $(LINK)

$(BUILD)/softphone: examples/softphone.cpp bindings/cpp/provision.hpp include/provision.h lib | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

example: $(BUILD)/softphone

test-cpp-wrapper: $(BUILD)/test_wrapper_cpp
	$(LOGGED) $(PYTHON) tests/c/harness.py $(BUILD)/test_wrapper_cpp $(TO_LOG)

# The refresh callback's lifetime across threads, moves and destruction:
# under valgrind, like test-c-refresh, since a function object destroyed too
# early would only show there.
test-cpp-refresh: $(BUILD)/test_wrapper_refresh_cpp
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/harness.py $(BUILD)/test_wrapper_refresh_cpp $(TO_LOG)

# The example's start-up scenarios: fallback, merge, store, the credential
# prompt, the server's error text, an invalid provision file.
test-example: $(BUILD)/softphone
	$(LOGGED) $(PYTHON) tests/cpp/softphone.py $(BUILD)/softphone $(TO_LOG)
