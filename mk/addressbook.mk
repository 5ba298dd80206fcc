# The addressbook part (docs/addressbook.md): its C and C++ tests against
# the reference server (examples/addressbook_server.py), included by the
# Makefile. Each runs twice: under valgrind, and built with ASan and UBSan
# (snapshots cross threads and outlive their handle; any report fails).

.PHONY: test-addressbook test-c-addressbook test-cpp-addressbook test-addressbook-sanitized

AB_SANITIZE     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
AB_SANITIZED    = $(BUILD)/addressbook-sanitized
AB_SANITIZE_ENV = TEST_WRAPPER= ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86 \
                  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=exitcode=87

$(BUILD)/test_addressbook: tests/c/test_addressbook.c tests/c/check.h include/provision.h lib | $(BUILD)
	$(CC) $(CFLAGS_STRICT) -pthread -o $@ $< $(LINK)

$(BUILD)/test_addressbook_cpp: tests/cpp/test_addressbook.cpp $(WRAPPER_TEST_DEPS) | $(BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) -o $@ $< $(LINK)

$(AB_SANITIZED):
	mkdir -p $@

$(AB_SANITIZED)/test_addressbook: tests/c/test_addressbook.c tests/c/check.h include/provision.h lib | $(AB_SANITIZED)
	$(CC) $(CFLAGS_STRICT) $(AB_SANITIZE) -pthread -o $@ $< $(LINK)

$(AB_SANITIZED)/test_addressbook_cpp: tests/cpp/test_addressbook.cpp $(WRAPPER_TEST_DEPS) | $(AB_SANITIZED)
	$(CXX) $(CXXFLAGS_WRAPPER) $(AB_SANITIZE) -pthread -o $@ $< $(LINK)

test-c-addressbook: $(BUILD)/test_addressbook
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/addressbook_harness.py $(BUILD)/test_addressbook $(TO_LOG)

test-cpp-addressbook: $(BUILD)/test_addressbook_cpp
	$(LOGGED) TEST_WRAPPER="$(VALGRIND)" $(PYTHON) tests/c/addressbook_harness.py $(BUILD)/test_addressbook_cpp $(TO_LOG)

test-addressbook-sanitized: $(AB_SANITIZED)/test_addressbook $(AB_SANITIZED)/test_addressbook_cpp
	$(LOGGED) $(AB_SANITIZE_ENV) $(PYTHON) tests/c/addressbook_harness.py $(AB_SANITIZED)/test_addressbook $(TO_LOG)
	$(LOGGED) $(AB_SANITIZE_ENV) $(PYTHON) tests/c/addressbook_harness.py $(AB_SANITIZED)/test_addressbook_cpp $(TO_LOG)

test-addressbook: test-c-addressbook test-cpp-addressbook test-addressbook-sanitized
