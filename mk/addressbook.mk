# The addressbook part (docs/addressbook.md): its C and C++ tests against
# the reference server (examples/addressbook_server.py), included by the
# Makefile. Both run under valgrind: snapshots cross threads and outlive
# their handle.

.PHONY: test-addressbook test-c-addressbook test-cpp-addressbook

$(BUILD)/test_addressbook: tests/c/test_addressbook.c tests/c/check.h include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -pthread -o $@ $< $(LINK)

$(BUILD)/test_addressbook_cpp: tests/cpp/test_addressbook.cpp $(WRAPPER_TEST_DEPS) | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

test-c-addressbook: $(BUILD)/test_addressbook
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/addressbook_harness.py $(BUILD)/test_addressbook $(TO_LOG)

test-cpp-addressbook: $(BUILD)/test_addressbook_cpp
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/addressbook_harness.py $(BUILD)/test_addressbook_cpp $(TO_LOG)

test-addressbook: test-c-addressbook test-cpp-addressbook
