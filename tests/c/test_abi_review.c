/*
 * A hostile user's review of the C ABI (issue 9): callbacks that re-enter
 * the handle (provision_run, start_refresh, provision_free from inside the
 * logger), the logger called from a run and an addressbook call at once, a
 * pthread key destructor stopping and freeing a handle, and every argument
 * of every function NULL, empty or not UTF-8. Built with
 * -fsanitize=address,undefined by `make test-race`; any report fails it.
 *
 * Run by tests/c/race_harness.py as
 *   test_abi_review BASE_URL TMPDIR
 * (BASE_URL + "/race/configuration" answers a changing document,
 * BASE_URL + "/race/addressbook" an addressbook of one contact).
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <provision.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fixture {
    const char *base; /* http://127.0.0.1:PORT */
    const char *dir;
};

enum { TEXT_MAX = 4096, DEADLINE_S = 60 };

/* Waits (bounded by DEADLINE_S) until *flag is non-zero; gives its value. */
static int wait_flag(int *flag)
{
    double give_up = now_s() + DEADLINE_S;
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && now_s() < give_up)
        sleep_ms(1);
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

/* A handle on `urls` base URLs: "dead" is a closed port, "race" the harness. */
static provision_t *load(const struct fixture *f, int rate, int dead_first, int addressbook)
{
    char text[TEXT_MAX];
    provision_t *h = NULL;
    snprintf(text, sizeof text,
             "<provision><base_urls>%s%s%s<base_url>%s/race/</base_url></base_urls>"
             "<options><use_authentication>0</use_authentication><refresh_rate>%d</refresh_rate></options>"
             "<significant_sections>accounts,codecs</significant_sections>"
             "<addressbook><use_addressbook>%d</use_addressbook></addressbook></provision>",
             dead_first ? "<base_url>" : "", dead_first ? f->base : "", dead_first ? "/absent/</base_url>" : "",
             f->base, rate, addressbook);
    CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK);
    return h;
}

/* ------------------------------------- provision_run inside its own logger */

struct reenter {
    provision_t *h;
    int calls;
    int status;
};

static void run_in_logger(void *userdata, const provision_log_record_t *record)
{
    struct reenter *re = userdata;
    (void)record;
    if (re->calls++ == 0)
        re->status = provision_run(re->h, NULL);
}

/* It would wait for itself (runs on a handle take turns): a status, not a hang. */
static void test_run_inside_logger(const struct fixture *f)
{
    struct reenter re = {load(f, 0, 0, 0), 0, -1};
    if (re.h == NULL || !CHECK_STATUS(provision_set_logger(re.h, run_in_logger, &re), PROVISION_OK))
        return;
    CHECK_STATUS(provision_run(re.h, NULL), PROVISION_OK);
    CHECK_STATUS(re.status, PROVISION_ERR_ARGUMENT);
    provision_free(re.h);
}

/* ------------------------------- stop and start the worker inside the logger */

struct restart {
    provision_t *h;
    int calls;
    int first, stop, second;
};

static void restart_in_logger(void *userdata, const provision_log_record_t *record)
{
    struct restart *rs = userdata;
    (void)record;
    if (rs->calls++ != 0)
        return;
    /* A worker whose first attempt is due at once: it waits for this run. */
    rs->first = provision_start_refresh(rs->h, NULL, NULL, NULL);
    sleep_ms(50); /* time for it to reach the run's lock (a pass does not depend on it) */
    rs->stop = provision_stop_refresh(rs->h);
    rs->second = provision_start_refresh(rs->h, NULL, NULL, NULL);
}

static void test_restart_inside_logger(const struct fixture *f)
{
    struct restart rs = {load(f, 1, 0, 0), 0, -1, -1, -1};
    if (rs.h == NULL || !CHECK_STATUS(provision_set_logger(rs.h, restart_in_logger, &rs), PROVISION_OK))
        return;
    CHECK_STATUS(provision_run(rs.h, NULL), PROVISION_OK);
    CHECK_STATUS(rs.first, PROVISION_OK);
    CHECK_STATUS(rs.stop, PROVISION_OK);
    CHECK(rs.second == PROVISION_OK || rs.second == PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_logger(rs.h, NULL, NULL), PROVISION_OK);
    CHECK_STATUS(provision_stop_refresh(rs.h), PROVISION_OK);
    provision_free(rs.h);
}

/* ------------------------- free inside the logger of the worker's own attempt */

static pthread_key_t exit_key;

struct late {
    provision_t *h;
    int freed;
    int records_after;
    int callbacks;
    int worker_ended;
};

static void worker_ended(void *value)
{
    __atomic_store_n(&((struct late *)value)->worker_ended, 1, __ATOMIC_RELEASE);
}

static void free_in_worker_logger(void *userdata, const provision_log_record_t *record)
{
    struct late *l = userdata;
    (void)record;
    if (__atomic_load_n(&l->freed, __ATOMIC_ACQUIRE)) {
        __atomic_add_fetch(&l->records_after, 1, __ATOMIC_RELAXED);
        return;
    }
    pthread_setspecific(exit_key, l); /* tells when the worker thread has ended */
    provision_free(l->h);
    __atomic_store_n(&l->freed, 1, __ATOMIC_RELEASE);
}

static void count_late_refresh(void *userdata, int status, int changed, const char *config)
{
    (void)status;
    (void)changed;
    (void)config;
    __atomic_add_fetch(&((struct late *)userdata)->callbacks, 1, __ATOMIC_RELAXED);
}

/* Once provision_free has returned, the logger's userdata may go as soon as
 * the callback returns: nothing may call the logger after, or the host could
 * never know when to release it (no run returns on the worker). */
static void test_no_record_after_free_in_worker_logger(const struct fixture *f)
{
    struct late *l = calloc(1, sizeof *l);
    if (!CHECK(l != NULL) || !CHECK(pthread_key_create(&exit_key, worker_ended) == 0))
        return;
    l->h = load(f, 1, 1, 0); /* two URLs: two records per attempt */
    if (l->h != NULL && CHECK_STATUS(provision_set_logger(l->h, free_in_worker_logger, l), PROVISION_OK)
        && CHECK_STATUS(provision_start_refresh(l->h, NULL, count_late_refresh, l), PROVISION_OK)) {
        CHECK(wait_flag(&l->worker_ended));
        CHECK(__atomic_load_n(&l->records_after, __ATOMIC_ACQUIRE) == 0);
        CHECK(__atomic_load_n(&l->callbacks, __ATOMIC_ACQUIRE) == 0);
    }
    pthread_key_delete(exit_key);
    free(l);
}

/* ------------------------- the logger is never called concurrently for a handle */

struct overlap {
    provision_t *h;
    int inside;
    int overlaps;
    int records;
    int status[2];
};

static void overlap_logger(void *userdata, const provision_log_record_t *record)
{
    struct overlap *o = userdata;
    (void)record;
    if (__atomic_add_fetch(&o->inside, 1, __ATOMIC_ACQ_REL) > 1)
        __atomic_add_fetch(&o->overlaps, 1, __ATOMIC_RELAXED);
    /* Room for the other thread's record to come in (a pass does not depend on it). */
    double until = now_s() + 0.2;
    while (!__atomic_load_n(&o->overlaps, __ATOMIC_ACQUIRE) && now_s() < until)
        sleep_ms(1);
    __atomic_add_fetch(&o->records, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&o->inside, 1, __ATOMIC_ACQ_REL);
}

static void *runs(void *arg)
{
    struct overlap *o = arg;
    for (int i = 0; i < 4; i++)
        if (provision_run(o->h, NULL) != PROVISION_OK)
            o->status[0]++;
    return NULL;
}

static void *fetches(void *arg)
{
    struct overlap *o = arg;
    for (int i = 0; i < 4; i++) {
        provision_addressbook_t *b = NULL;
        if (provision_addressbook_fetch(o->h, &b) != PROVISION_OK)
            o->status[1]++;
        provision_addressbook_free(b);
    }
    return NULL;
}

/* The header: `cb` is called "never concurrently for one handle". */
static void test_logger_never_concurrent(const struct fixture *f)
{
    struct overlap o;
    memset(&o, 0, sizeof o);
    o.h = load(f, 0, 0, 1);
    if (o.h == NULL || !CHECK_STATUS(provision_set_logger(o.h, overlap_logger, &o), PROVISION_OK))
        return;
    pthread_t a, b;
    int started_a = CHECK(pthread_create(&a, NULL, runs, &o) == 0);
    int started_b = CHECK(pthread_create(&b, NULL, fetches, &o) == 0);
    if (started_a)
        CHECK(pthread_join(a, NULL) == 0);
    if (started_b)
        CHECK(pthread_join(b, NULL) == 0);
    CHECK(o.status[0] == 0 && o.status[1] == 0);
    CHECK(o.records == 8);
    CHECK(o.overlaps == 0);
    provision_free(o.h);
}

/* ------------------------------------ stop and free from a pthread key destructor */

static pthread_key_t free_key;
static int destructor_stop = -1;

static void free_from_destructor(void *h)
{
    /* Rust's thread-locals of this thread are gone by now. */
    destructor_stop = provision_stop_refresh(h);
    provision_free(h);
}

static void *thread_owning_handle(void *h)
{
    /* No call into the library before: its first is in the key destructor,
     * after glibc ran the thread-local destructors (nothing may leak). */
    pthread_setspecific(free_key, h);
    return NULL;
}

static void ended_on_refresh(void *userdata, int status, int changed, const char *config)
{
    struct late *l = userdata;
    (void)status;
    (void)changed;
    (void)config;
    if (__atomic_add_fetch(&l->callbacks, 1, __ATOMIC_ACQ_REL) == 1)
        pthread_setspecific(exit_key, l);
}

/* A host that frees its handle with the thread that owns it (a pthread key
 * whose destructor is provision_free): the worker must stop and the handle go. */
static void test_free_from_key_destructor(const struct fixture *f)
{
    struct late l;
    memset(&l, 0, sizeof l);
    if (!CHECK(pthread_key_create(&free_key, free_from_destructor) == 0)
        || !CHECK(pthread_key_create(&exit_key, worker_ended) == 0))
        return;
    l.h = load(f, 1, 0, 0);
    pthread_t thread;
    if (l.h != NULL && CHECK_STATUS(provision_start_refresh(l.h, NULL, ended_on_refresh, &l), PROVISION_OK)
        && CHECK(wait_flag(&l.callbacks)) && CHECK(pthread_create(&thread, NULL, thread_owning_handle, l.h) == 0)) {
        CHECK(pthread_join(thread, NULL) == 0);
        CHECK_STATUS(destructor_stop, PROVISION_OK);
        CHECK(wait_flag(&l.worker_ended)); /* provision_free stopped and joined it */
    }
    pthread_key_delete(free_key);
    pthread_key_delete(exit_key);
}

/* ------------------------------------------ set_logger inside the logger itself */

struct swap {
    provision_t *h;
    int first, second, swapped;
};

static void second_logger(void *userdata, const provision_log_record_t *record)
{
    (void)record;
    ((struct swap *)userdata)->second++;
}

static void swapping_logger(void *userdata, const provision_log_record_t *record)
{
    struct swap *sw = userdata;
    (void)record;
    sw->first++;
    /* Must not wait for this very call; the next record goes to the new one. */
    sw->swapped = provision_set_logger(sw->h, second_logger, sw);
}

static void test_set_logger_inside_logger(const struct fixture *f)
{
    struct swap sw = {load(f, 0, 1, 0), 0, 0, -1};
    if (sw.h == NULL || !CHECK_STATUS(provision_set_logger(sw.h, swapping_logger, &sw), PROVISION_OK))
        return;
    CHECK_STATUS(provision_run(sw.h, NULL), PROVISION_OK);
    CHECK_STATUS(sw.swapped, PROVISION_OK);
    CHECK(sw.first == 1 && sw.second == 1); /* two URLs, two records */
    provision_free(sw.h);
}

/* ------------------------------------- every argument NULL, empty, not UTF-8 */

static int rows, bad_rows;

/* A failed status comes with a message; a crash or sanitizer report ends the program. */
static void row(int got, int want, const char *call, int line)
{
    rows++;
    if (!check_status(got, want, call, line))
        bad_rows++;
    else if (want != PROVISION_OK && provision_last_error()[0] == '\0')
        check(0, "a failure without a message", line), bad_rows++;
}

#define ROW(call, want) row((call), (want), #call, __LINE__)
#define ARG PROVISION_ERR_ARGUMENT

static void test_arguments_table(const struct fixture *f)
{
    static const char bad_utf8[] = "\xff\xfe";
    char path[TEXT_MAX];
    provision_t *h = load(f, 1, 0, 1), *out = (provision_t *)&rows;
    provision_addressbook_t *book = (provision_addressbook_t *)&rows;
    if (h == NULL)
        return;
    snprintf(path, sizeof path, "%s/table.xml", f->dir);

    ROW(provision_load(NULL, &out), ARG);
    CHECK(out == NULL);
    ROW(provision_load("", &out), ARG);
    ROW(provision_load(bad_utf8, &out), ARG);
    ROW(provision_load(path, NULL), ARG);
    ROW(provision_load_xml(NULL, &out), ARG);
    ROW(provision_load_xml("", &out), PROVISION_ERR_FORMAT);
    ROW(provision_load_xml(bad_utf8, &out), ARG);
    ROW(provision_load_xml("<provision/>", NULL), ARG);
    CHECK(out == NULL);

    /* Every handle function with a NULL handle. */
    ROW(provision_set_credentials(NULL, "u", "p"), ARG);
    ROW(provision_set_timeouts(NULL, 1, 1), ARG);
    ROW(provision_set_ca_file(NULL, NULL), ARG);
    ROW(provision_run(NULL, NULL), ARG);
    ROW(provision_store_local(NULL, "<options/>", path), ARG);
    ROW(provision_set_cache(NULL, NULL), ARG);
    ROW(provision_save(NULL, path), ARG);
    ROW(provision_set_user_agent(NULL, NULL), ARG);
    ROW(provision_set_logger(NULL, NULL, NULL), ARG);
    ROW(provision_set_client_cert(NULL, NULL, NULL), ARG);
    ROW(provision_set_proxy(NULL, NULL), ARG);
    ROW(provision_set_header(NULL, "X-A", "b"), ARG);
    ROW(provision_set_variable(NULL, "a", "b"), ARG);
    ROW(provision_start_refresh(NULL, NULL, NULL, NULL), ARG);
    ROW(provision_stop_refresh(NULL), ARG);
    ROW(provision_refresh_now(NULL, 0), ARG);
    ROW(provision_set_call_active(NULL, 0), ARG);
    ROW(provision_addressbook_fetch(NULL, &book), ARG);
    CHECK(book == NULL);
    ROW(provision_addressbook_add(NULL, "<contact/>", NULL), ARG);
    ROW(provision_addressbook_update(NULL, "1", "<contact/>"), ARG);
    ROW(provision_addressbook_delete(NULL, "1"), ARG);
    CHECK(provision_config(NULL) == NULL && provision_source_url(NULL) == NULL);
    CHECK(provision_is_provisioned(NULL, "accounts") == 0 && provision_last_outcome(NULL) == NULL);
    CHECK(provision_outcome_config(NULL) == NULL && provision_outcome_source_url(NULL) == NULL);
    CHECK(provision_outcome_provisioned(NULL) == NULL && provision_outcome_is_provisioned(NULL, "accounts") == 0);
    CHECK(provision_outcome_from_cache(NULL) == 0);
    CHECK(provision_addressbook_xml(NULL) == NULL && provision_addressbook_count(NULL) == 0);
    provision_outcome_free(NULL);
    provision_addressbook_free(NULL);
    provision_free(NULL);

    /* Each string argument NULL, "" and not UTF-8, on a live handle. */
    ROW(provision_set_credentials(h, NULL, "p"), ARG);
    ROW(provision_set_credentials(h, bad_utf8, "p"), ARG);
    ROW(provision_set_credentials(h, "u", NULL), ARG);
    ROW(provision_set_credentials(h, "u", bad_utf8), ARG);
    ROW(provision_set_timeouts(h, 0, 1), ARG);
    ROW(provision_set_timeouts(h, 1, 0), ARG);
    ROW(provision_set_ca_file(h, ""), ARG);
    ROW(provision_set_ca_file(h, bad_utf8), ARG);
    ROW(provision_set_ca_file(h, NULL), PROVISION_OK);
    ROW(provision_run(h, ""), ARG);
    ROW(provision_run(h, bad_utf8), ARG);
    ROW(provision_store_local(h, NULL, path), ARG); /* no run yet */
    ROW(provision_store_local(h, "<options/>", NULL), ARG);
    ROW(provision_store_local(h, "<options/>", ""), ARG);
    ROW(provision_store_local(h, "<options/>", bad_utf8), ARG);
    ROW(provision_store_local(h, bad_utf8, path), ARG);
    ROW(provision_store_local(h, "", path), PROVISION_ERR_FORMAT);
    ROW(provision_set_cache(h, ""), ARG);
    ROW(provision_set_cache(h, bad_utf8), ARG);
    ROW(provision_set_cache(h, NULL), PROVISION_OK);
    ROW(provision_save(h, NULL), ARG);
    ROW(provision_save(h, ""), ARG);
    ROW(provision_save(h, bad_utf8), ARG);
    ROW(provision_set_user_agent(h, ""), ARG);
    ROW(provision_set_user_agent(h, bad_utf8), ARG);
    ROW(provision_set_user_agent(h, NULL), PROVISION_OK);
    ROW(provision_set_client_cert(h, "", ""), ARG);
    ROW(provision_set_client_cert(h, bad_utf8, bad_utf8), ARG);
    ROW(provision_set_client_cert(h, path, NULL), ARG);
    ROW(provision_set_client_cert(h, NULL, path), ARG);
    ROW(provision_set_client_cert(h, NULL, NULL), PROVISION_OK);
    ROW(provision_set_proxy(h, bad_utf8), ARG);
    ROW(provision_set_proxy(h, ""), PROVISION_OK);
    ROW(provision_set_proxy(h, NULL), PROVISION_OK);
    ROW(provision_set_header(h, NULL, "b"), ARG);
    ROW(provision_set_header(h, "", "b"), ARG);
    ROW(provision_set_header(h, bad_utf8, "b"), ARG);
    ROW(provision_set_header(h, "X-A", bad_utf8), ARG);
    ROW(provision_set_header(h, "X-A", NULL), PROVISION_OK);
    ROW(provision_set_variable(h, NULL, "b"), ARG);
    ROW(provision_set_variable(h, "", "b"), ARG);
    ROW(provision_set_variable(h, bad_utf8, "b"), ARG);
    ROW(provision_set_variable(h, "a", bad_utf8), ARG);
    ROW(provision_set_variable(h, "a", NULL), PROVISION_OK);
    ROW(provision_start_refresh(h, "", NULL, NULL), ARG);
    ROW(provision_start_refresh(h, bad_utf8, NULL, NULL), ARG);
    ROW(provision_refresh_now(h, 0), ARG); /* no worker */
    ROW(provision_addressbook_fetch(h, NULL), ARG);
    ROW(provision_addressbook_add(h, NULL, &book), ARG);
    CHECK(book == NULL);
    ROW(provision_addressbook_add(h, bad_utf8, NULL), ARG);
    ROW(provision_addressbook_add(h, "", NULL), PROVISION_ERR_FORMAT);
    ROW(provision_addressbook_update(h, NULL, "<contact/>"), ARG);
    ROW(provision_addressbook_update(h, "", "<contact/>"), ARG);
    ROW(provision_addressbook_update(h, bad_utf8, "<contact/>"), ARG);
    ROW(provision_addressbook_update(h, "1", NULL), ARG);
    ROW(provision_addressbook_update(h, "1", bad_utf8), ARG);
    ROW(provision_addressbook_delete(h, NULL), ARG);
    ROW(provision_addressbook_delete(h, ""), ARG);
    ROW(provision_addressbook_delete(h, bad_utf8), ARG);
    CHECK(provision_is_provisioned(h, NULL) == 0 && provision_is_provisioned(h, "") == 0);
    CHECK(provision_is_provisioned(h, bad_utf8) == 0);

    /* The outcome's readers, with a real outcome. */
    ROW(provision_run(h, NULL), PROVISION_OK);
    provision_outcome_t *o = provision_last_outcome(h);
    if (CHECK(o != NULL)) {
        CHECK(provision_outcome_is_provisioned(o, NULL) == 0 && provision_outcome_is_provisioned(o, "") == 0);
        CHECK(provision_outcome_is_provisioned(o, bad_utf8) == 0);
        CHECK(provision_outcome_is_provisioned(o, "accounts") == 1);
    }
    provision_outcome_free(o);

    /* Status names: every status the header defines, and values it does not. */
    static const int known[] = {PROVISION_OK, PROVISION_ERR_ARGUMENT, PROVISION_ERR_NOT_FOUND, PROVISION_ERR_IO,
                                PROVISION_ERR_FORMAT, PROVISION_ERR_CREDENTIALS, PROVISION_ERR_SERVER,
                                PROVISION_ERR_FETCH, PROVISION_ERR_DEFERRED, PROVISION_ERR_INTERNAL,
                                PROVISION_CACHED, PROVISION_ERR_RESTRICTED};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        CHECK_TEXT(provision_status_name(known[i]), status_name(known[i]));
    static const int unknown[] = {-1, 12, 13, 100, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_TEXT(provision_status_name(unknown[i]), "PROVISION_UNKNOWN");

    /* The version: the header's macros, the run-time string. */
    char version[64];
    snprintf(version, sizeof version, "%d.%d.%d", PROVISION_VERSION_MAJOR, PROVISION_VERSION_MINOR,
             PROVISION_VERSION_PATCH);
    CHECK_TEXT(provision_version(), version);
    CHECK_TEXT(provision_version(), PROVISION_VERSION);
    printf("# arguments: %d calls checked, %d wrong\n", rows, bad_rows);
    provision_free(h);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BASE_URL TMPDIR\n(run it through tests/c/race_harness.py)\n", argv[0]);
        return 2;
    }
    const struct fixture f = {argv[1], argv[2]};
    static const struct {
        const char *name;
        void (*run)(const struct fixture *);
    } cases[] = {
        {"provision_run inside its own logger is ARGUMENT, not a hang", test_run_inside_logger},
        {"stop then start the worker inside the logger: no deadlock", test_restart_inside_logger},
        {"free inside the worker's logger: no record after it, no callback", test_no_record_after_free_in_worker_logger},
        {"a run and an addressbook fetch never call the logger at once", test_logger_never_concurrent},
        {"stop and free from a pthread key destructor: the worker ends", test_free_from_key_destructor},
        {"set_logger inside the logger: no wait for itself, the next record goes to the new one",
         test_set_logger_inside_logger},
        {"every argument NULL, empty, not UTF-8: a status and a message; status names; version",
         test_arguments_table},
    };
    int failed = 0;
    /* ONLY_CASE=N runs case N alone: a hang shows which case it is. */
    const char *only = getenv("ONLY_CASE");
    if (only != NULL) {
        size_t i = (size_t)atoi(only);
        case_failed = 0;
        cases[i].run(&f);
        printf("%s - %s\n", case_failed ? "not ok" : "ok", cases[i].name);
        return case_failed;
    }
    RUN_CASES(cases, &f, failed);
    return failed ? 1 : 0;
}
