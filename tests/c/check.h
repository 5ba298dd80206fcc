/*
 * What the C test programs report with: each case prints `ok - NAME` or
 * `not ok - NAME` (see tests/c/harness.py); these checks print `#` lines for
 * what failed and mark the current case failed.
 */
#ifndef PROVISION_TEST_CHECK_H
#define PROVISION_TEST_CHECK_H

#include <provision.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set by a failed check; the case loop resets it before each case. */
static int case_failed;

static inline const char *status_name(int status)
{
    switch (status) {
    case PROVISION_OK: return "PROVISION_OK";
    case PROVISION_ERR_ARGUMENT: return "PROVISION_ERR_ARGUMENT";
    case PROVISION_ERR_NOT_FOUND: return "PROVISION_ERR_NOT_FOUND";
    case PROVISION_ERR_IO: return "PROVISION_ERR_IO";
    case PROVISION_ERR_FORMAT: return "PROVISION_ERR_FORMAT";
    case PROVISION_ERR_CREDENTIALS: return "PROVISION_ERR_CREDENTIALS";
    case PROVISION_ERR_SERVER: return "PROVISION_ERR_SERVER";
    case PROVISION_ERR_FETCH: return "PROVISION_ERR_FETCH";
    case PROVISION_ERR_DEFERRED: return "PROVISION_ERR_DEFERRED";
    case PROVISION_ERR_INTERNAL: return "PROVISION_ERR_INTERNAL";
    case PROVISION_CACHED: return "PROVISION_CACHED";
    case PROVISION_ERR_RESTRICTED: return "PROVISION_ERR_RESTRICTED";
    default: return "(unknown status)";
    }
}

static inline int check(int ok, const char *what, int line)
{
    if (!ok) {
        case_failed = 1;
        printf("#   line %d: %s\n", line, what);
    }
    return ok;
}

#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

/* `got` is evaluated before the last error is read: nothing runs between. */
static inline int check_status(int got, int want, const char *call, int line)
{
    if (got == want)
        return 1;
    printf("#   line %d: %s\n#     gave %s (\"%s\"), want %s\n", line, call, status_name(got),
           provision_last_error(), status_name(want));
    case_failed = 1;
    return 0;
}

#define CHECK_STATUS(call, want) check_status((call), (want), #call, __LINE__)

static inline int check_text(const char *got, const char *want, const char *what, int line)
{
    if (got != NULL && strcmp(got, want) == 0)
        return 1;
    printf("#   line %d: %s\n#     got:  \"%s\"\n#     want: \"%s\"\n", line, what,
           got ? got : "(NULL)", want);
    case_failed = 1;
    return 0;
}

#define CHECK_TEXT(got, want) check_text((got), (want), #got " == " #want, __LINE__)

/* Monotonic seconds, for the deadlines of the waits on ready flags (the
 * including file defines _POSIX_C_SOURCE). */
static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sleeps `ms` milliseconds whatever signals interrupt it. */
static inline void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* Runs each case of the array `cases` (elements with `name` and
 * `run(fixture)`), printing its result line, and adds the failed ones to
 * the int `failed`. */
#define RUN_CASES(cases, fixture, failed)                                          \
    for (size_t case_i = 0; case_i < sizeof(cases) / sizeof((cases)[0]); case_i++) { \
        case_failed = 0;                                                           \
        (cases)[case_i].run(fixture);                                              \
        printf("%s - %s\n", case_failed ? "not ok" : "ok", (cases)[case_i].name);  \
        fflush(stdout);                                                            \
        (failed) += case_failed;                                                   \
    }

#endif
