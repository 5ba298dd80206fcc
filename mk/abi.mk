# The C ABI's memory-safety proofs, included by the Makefile: the C and C++
# test programs built a second time with AddressSanitizer and UBSan (the
# library's allocations go through the system allocator, so ASan sees its
# frees too), and the race suite, which only runs under them. Any sanitizer
# report fails the run; the valgrind runs of the other targets stay as they are.

SANITIZE      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_BUILD    = $(BUILD)/asan
# A report ends the program with a failing status; leaks count.
SANITIZER_ENV = TEST_WRAPPER= ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=exitcode=87

ASAN_C_PROGRAMS   = test_provision test_refresh test_race
ASAN_CPP_PROGRAMS = test_header_cpp:tests/cpp/test_header.cpp test_wrapper_cpp:tests/cpp/test_wrapper.cpp \
                    test_wrapper_refresh_cpp:tests/cpp/test_wrapper_refresh.cpp test_race_cpp:tests/cpp/test_race.cpp

ASAN_TARGETS = test-asan test-race
$(ASAN_TARGETS): CARGO_FEATURES = --features test-hooks
$(ASAN_TARGETS): export PROVISION_TEST_MESSAGES = $(abspath $(TEST_LOGS)/messages.log)

.PHONY: $(ASAN_TARGETS)

$(ASAN_BUILD):
	mkdir -p $@

$(ASAN_BUILD)/test_%: tests/c/test_%.c tests/c/check.h include/provision.h lib | $(ASAN_BUILD)
	$(CC) $(CFLAGS_STRICT) $(SANITIZE) -pthread -o $@ $< $(LINK)

define asan_cpp_rule
$(ASAN_BUILD)/$(1): $(2) $(WRAPPER_TEST_DEPS) | $(ASAN_BUILD)
	$(CXX) $(CXXFLAGS_WRAPPER) $(SANITIZE) -pthread -o $$@ $$< $(LINK)
endef
$(foreach p,$(ASAN_CPP_PROGRAMS),$(eval $(call asan_cpp_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# The functional suites again, under the sanitizers.
test-asan: $(ASAN_BUILD)/test_provision $(ASAN_BUILD)/test_refresh $(ASAN_BUILD)/test_header_cpp \
           $(ASAN_BUILD)/test_wrapper_cpp $(ASAN_BUILD)/test_wrapper_refresh_cpp
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/harness.py $(ASAN_BUILD)/test_provision $(TO_LOG)
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/refresh_harness.py $(ASAN_BUILD)/test_refresh $(TO_LOG)
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/harness.py $(ASAN_BUILD)/test_header_cpp $(TO_LOG)
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/harness.py $(ASAN_BUILD)/test_wrapper_cpp $(TO_LOG)
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/harness.py $(ASAN_BUILD)/test_wrapper_refresh_cpp $(TO_LOG)

# Every thread promise of the header raced, in C and through the C++ wrapper,
# against a server whose answer changes on every request; the reproductions
# of issue 9's defects. Under the sanitizers only: valgrind serialises threads.
test-race: $(ASAN_BUILD)/test_race $(ASAN_BUILD)/test_race_cpp
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/race_harness.py $(ASAN_BUILD)/test_race $(TO_LOG)
	$(LOGGED) $(SANITIZER_ENV) $(PYTHON) tests/c/race_harness.py $(ASAN_BUILD)/test_race_cpp $(TO_LOG)
