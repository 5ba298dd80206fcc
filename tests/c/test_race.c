/*
 * The thread promises of include/provision.h, raced: every reader against
 * runs, the refresh worker, the logger, settings, stop and free, with a
 * server whose answer changes on every request; plus the reproductions of
 * the defects of issue 9 (use-after-free of handed-out strings, double free
 * in provision_free, a call from a pthread key destructor aborting) and frees
 * from inside the log and refresh callbacks. Built with
 * -fsanitize=address,undefined in `make test`, where any report fails it.
 *
 * Run by tests/c/race_harness.py as
 *   test_race BASE_URL TMPDIR
 * (BASE_URL + "/race/configuration" answers document N: user race-N and a
 * pad of (N % 7) * 500 characters).
 *
 * Each race runs until it has done its rounds AND its window has passed, so
 * a slow machine still races every path; a deadline only stops a wedged run.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <provision.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fixture {
    const char *base; /* http://127.0.0.1:PORT */
    const char *dir;
};

enum { TEXT_MAX = 4096, WINDOW_MS = 1500, DEADLINE_S = 120, MIN_ROUNDS = 20 };

/* A handle on BASE/race/, refresh_rate `rate`, accounts and codecs significant. */
static provision_t *load_race(const struct fixture *f, int rate)
{
    char text[TEXT_MAX];
    provision_t *h = NULL;
    snprintf(text, sizeof text,
             "<provision><base_urls><base_url>%s/race/</base_url></base_urls>"
             "<options><use_authentication>0</use_authentication><refresh_rate>%d</refresh_rate></options>"
             "<significant_sections>accounts,codecs</significant_sections></provision>",
             f->base, rate);
    CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK);
    return h;
}

/* A merged config is one server document, whole: one user race-N, its pad
 * of (N % 7) * 500 characters, the codecs and the end. The copy is made
 * first: a freed or replaced string shows as a sanitizer report or a torn
 * document. */
static int config_is_whole(const char *config)
{
    char *copy = strdup(config);
    int whole = 0;
    const char *user = copy ? strstr(copy, "<username>race-") : NULL;
    if (user != NULL && strstr(user + 1, "<username>") == NULL) {
        long n = strtol(user + strlen("<username>race-"), NULL, 10);
        const char *pad = strstr(user, "<pad>");
        const char *end = pad ? strstr(pad, "</pad>") : NULL;
        whole = end != NULL && end - pad - 5 == (n % 7) * 500 && strstr(copy, "<name>opus</name>") != NULL
                && strstr(copy, "</options>") != NULL;
    }
    free(copy);
    return whole;
}

/* The base URL as written (`tail` ""), or what a log record names (`tail` "configuration"). */
static int is_race_url(const struct fixture *f, const char *url, const char *tail)
{
    char want[TEXT_MAX];
    snprintf(want, sizeof want, "%s/race/%s", f->base, tail);
    return url != NULL && strcmp(url, want) == 0;
}

static int url_is_race(const struct fixture *f, const char *url)
{
    return is_race_url(f, url, "");
}

/* ------------------------------------------------------------------ race */

struct race {
    const struct fixture *f;
    provision_t *h;
    double until, deadline;
    int bad;           /* torn documents, wrong URLs, senseless statuses */
    int rounds[8];     /* per racing thread */
    int callbacks, records;
    int in_callback;   /* the refresh callback is under way */
    int freeing;       /* provision_free has been called */
    int after_free;    /* refresh callbacks that started after provision_free returned */
    int freed;
    int final_phase;   /* the last worker: its callback waits for the free */
};

/* One racing thread: the shared race and its own round counter. */
struct racer {
    struct race *r;
    int me;
};

static int keep_going(struct race *r, int me)
{
    double t = now_s();
    if (t >= r->deadline)
        return 0;
    return t < r->until || r->rounds[me] < MIN_ROUNDS;
}

static void bad(struct race *r, const char *what)
{
    if (__atomic_fetch_add(&r->bad, 1, __ATOMIC_RELAXED) < 5)
        printf("#   %s\n", what);
}

static void on_record(void *userdata, const provision_log_record_t *record)
{
    struct race *r = userdata;
    char *message = strdup(record->message);
    if (message == NULL || (record->kind == PROVISION_LOG_ATTEMPT && !is_race_url(r->f, record->url, "configuration")))
        bad(r, "a log record without a message or with another URL");
    free(message);
    /* Readers are allowed here too. */
    const char *config = provision_config(r->h);
    if (config != NULL && !config_is_whole(config))
        bad(r, "a torn config inside the logger");
    __atomic_add_fetch(&r->records, 1, __ATOMIC_RELAXED);
}

static void on_other_record(void *userdata, const provision_log_record_t *record)
{
    (void)record;
    __atomic_add_fetch(&((struct race *)userdata)->records, 1, __ATOMIC_RELAXED);
}

static void on_refresh(void *userdata, int status, int changed, const char *config)
{
    struct race *r = userdata;
    (void)changed;
    if (__atomic_load_n(&r->freed, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&r->after_free, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&r->in_callback, 1, __ATOMIC_RELEASE);
    if ((status == PROVISION_OK) != (config != NULL) || (config != NULL && !config_is_whole(config)))
        bad(r, "a refresh callback with a torn config");
    if (__atomic_load_n(&r->final_phase, __ATOMIC_ACQUIRE)) {
        /* The defect 2 set-up: the handle read while another thread is in
         * provision_free (waiting for this callback). */
        double give_up = now_s() + DEADLINE_S;
        while (!__atomic_load_n(&r->freeing, __ATOMIC_ACQUIRE) && now_s() < give_up)
            sleep_ms(1);
        sleep_ms(5);
    }
    const char *url = provision_source_url(r->h);
    const char *again = provision_config(r->h);
    if ((url != NULL && !url_is_race(r->f, url)) || (again != NULL && !config_is_whole(again)))
        bad(r, "a torn read in the refresh callback");
    __atomic_add_fetch(&r->callbacks, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&r->in_callback, 0, __ATOMIC_RELEASE);
}

/* provision_config and provision_source_url: valid until this thread's next call. */
static void *read_handle(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        /* Valid until this thread's next provision_config/_source_url on
         * the handle, whatever the other threads do meanwhile. */
        const char *config = provision_config(r->h);
        int had_config = config != NULL;
        sleep_ms(r->rounds[me] % 2);
        if (config != NULL && !config_is_whole(config))
            bad(r, "a torn provision_config");
        const char *url = provision_source_url(r->h);
        sleep_ms(r->rounds[me] % 2);
        if (url != NULL && !url_is_race(r->f, url))
            bad(r, "a wrong provision_source_url");
        /* Outcomes only get newer, and each provisions the accounts. */
        if (had_config && provision_is_provisioned(r->h, "accounts") != 1)
            bad(r, "provision_is_provisioned went back");
    }
    return NULL;
}

static void *read_outcomes(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        provision_outcome_t *o = provision_last_outcome(r->h);
        if (o == NULL)
            continue;
        const char *config = provision_outcome_config(o);
        if (!config_is_whole(config) || !url_is_race(r->f, provision_outcome_source_url(o))
            || strcmp(provision_outcome_provisioned(o), "accounts,codecs") != 0
            || provision_outcome_is_provisioned(o, "codecs") != 1 || provision_outcome_from_cache(o) != 0)
            bad(r, "a torn outcome");
        sleep_ms(1);
        if (provision_outcome_config(o) != config || !config_is_whole(config))
            bad(r, "an outcome changed under its reader");
        provision_outcome_free(o);
    }
    return NULL;
}

static void *run_often(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        int status = provision_run(r->h, NULL);
        if (status != PROVISION_OK && status != PROVISION_ERR_DEFERRED)
            bad(r, "provision_run gave a senseless status");
        /* Gaps longer than the period: the worker's schedule follows every
         * success, so it only asks in them. */
        if (r->rounds[me] % 5 == 4)
            sleep_ms(1100);
    }
    return NULL;
}

static void *change_settings(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        int ok = provision_set_logger(r->h, (r->rounds[me] % 3) ? on_record : on_other_record, r) == PROVISION_OK
                 && provision_set_credentials(r->h, "race-user", "race-password") == PROVISION_OK
                 && provision_set_call_active(r->h, r->rounds[me] % 2) == PROVISION_OK
                 && provision_set_call_active(r->h, 0) == PROVISION_OK;
        if (r->rounds[me] % 4 == 0)
            ok = ok && provision_set_logger(r->h, NULL, NULL) == PROVISION_OK;
        /* Issue 12's setters: each replaces what the next run takes. */
        ok = ok && provision_set_header(r->h, "X-Race", (r->rounds[me] % 2) ? "on" : NULL) == PROVISION_OK
             && provision_set_variable(r->h, "race", "v") == PROVISION_OK
             && provision_set_proxy(r->h, (r->rounds[me] % 2) ? "" : NULL) == PROVISION_OK
             && provision_set_client_cert(r->h, NULL, NULL) == PROVISION_OK;
        if (!ok)
            bad(r, "a setting was refused");
        sleep_ms(1);
    }
    return NULL;
}

static void *restart_worker(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        int status = provision_start_refresh(r->h, NULL, on_refresh, r);
        if (status != PROVISION_OK && status != PROVISION_ERR_ARGUMENT)
            bad(r, "provision_start_refresh gave a senseless status");
        sleep_ms(r->rounds[me] % 4 == 3 ? 1100 : 20); /* now and then, long enough for an attempt */
        if (provision_stop_refresh(r->h) != PROVISION_OK)
            bad(r, "provision_stop_refresh failed");
    }
    return NULL;
}

/* Defect 1 (three threads: config, source_url, run), and everything else
 * at once; provision_free at the end while the refresh callback runs
 * (defect 2: it reads the handle meanwhile). */
static void test_race(const struct fixture *f)
{
    struct race r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.h = load_race(f, 1);
    if (r.h == NULL || !CHECK_STATUS(provision_set_logger(r.h, on_record, &r), PROVISION_OK))
        return;
    r.until = now_s() + WINDOW_MS / 1000.0;
    r.deadline = now_s() + DEADLINE_S;
    void *(*bodies[])(void *) = {read_handle, read_outcomes, run_often, change_settings, restart_worker,
                                 read_handle, read_outcomes};
    enum { THREADS = sizeof bodies / sizeof bodies[0] };
    pthread_t threads[THREADS];
    struct racer racers[THREADS];
    int started = 0;
    for (; started < THREADS; started++) {
        racers[started] = (struct racer){&r, started};
        if (!CHECK(pthread_create(&threads[started], NULL, bodies[started], &racers[started]) == 0))
            break;
    }
    for (int i = 0; i < started; i++)
        CHECK(pthread_join(threads[i], NULL) == 0);

    /* The end: a worker whose callback is under way, then provision_free. */
    __atomic_store_n(&r.final_phase, 1, __ATOMIC_RELEASE);
    if (CHECK_STATUS(provision_start_refresh(r.h, NULL, on_refresh, &r), PROVISION_OK)) {
        double give_up = now_s() + DEADLINE_S;
        while (!__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE) && now_s() < give_up)
            sleep_ms(1);
        CHECK(__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE));
    }
    __atomic_store_n(&r.freeing, 1, __ATOMIC_RELEASE);
    provision_free(r.h); /* joins the worker: its callback has returned */
    __atomic_store_n(&r.freed, 1, __ATOMIC_RELEASE);
    CHECK(__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE) == 0);
    CHECK(r.after_free == 0);
    CHECK(r.bad == 0);
    for (int i = 0; i < started; i++)
        CHECK(r.rounds[i] >= MIN_ROUNDS || now_s() >= r.deadline);
    printf("# race: %d+%d reads, %d+%d outcome reads, %d runs, %d settings rounds, %d worker restarts, "
           "%d callbacks, %d log records\n",
           r.rounds[0], r.rounds[5], r.rounds[1], r.rounds[6], r.rounds[2], r.rounds[3], r.rounds[4], r.callbacks,
           r.records);
}

/* ------------------------------------------- the defects of issue 9, alone */

static void *read_config_only(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        const char *config = provision_config(r->h);
        if (config != NULL && !config_is_whole(config))
            bad(r, "a torn provision_config");
    }
    return NULL;
}

static void *read_url_only(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        const char *url = provision_source_url(r->h);
        if (url != NULL && !url_is_race(r->f, url))
            bad(r, "a wrong provision_source_url");
    }
    return NULL;
}

static void *run_without_pause(void *arg)
{
    struct race *r = ((struct racer *)arg)->r;
    int me = ((struct racer *)arg)->me;
    for (; keep_going(r, me); r->rounds[me]++) {
        if (provision_run(r->h, NULL) != PROVISION_OK)
            bad(r, "provision_run failed");
    }
    return NULL;
}

/* Defect 1: one thread reading provision_config, one provision_source_url,
 * one running against a server whose answer changes: a use-after-free of
 * the handed-out strings within a second, before snapshots and pins. */
static void test_defect_1(const struct fixture *f)
{
    struct race r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.h = load_race(f, 0);
    if (r.h == NULL)
        return;
    r.until = now_s() + WINDOW_MS / 1000.0;
    r.deadline = now_s() + DEADLINE_S;
    void *(*bodies[3])(void *) = {read_config_only, read_url_only, run_without_pause};
    pthread_t threads[3];
    struct racer racers[3];
    int started = 0;
    for (; started < 3; started++) {
        racers[started] = (struct racer){&r, started};
        if (!CHECK(pthread_create(&threads[started], NULL, bodies[started], &racers[started]) == 0))
            break;
    }
    for (int i = 0; i < started; i++)
        CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(r.bad == 0);
    printf("# defect 1: %d config reads, %d source URL reads, %d runs\n", r.rounds[0], r.rounds[1], r.rounds[2]);
    provision_free(r.h);
}

/* Defect 2: provision_free on this thread while the refresh callback reads
 * provision_source_url on the worker: the strings were freed before the
 * worker was joined (a double free). */
static void test_defect_2(const struct fixture *f)
{
    struct race r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.h = load_race(f, 1);
    r.deadline = now_s() + DEADLINE_S;
    r.final_phase = 1; /* the callback waits for the free to start, then reads */
    if (r.h == NULL || !CHECK_STATUS(provision_start_refresh(r.h, NULL, on_refresh, &r), PROVISION_OK))
        return;
    while (!__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE) && now_s() < r.deadline)
        sleep_ms(1);
    CHECK(__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE));
    __atomic_store_n(&r.freeing, 1, __ATOMIC_RELEASE);
    provision_free(r.h);
    __atomic_store_n(&r.freed, 1, __ATOMIC_RELEASE);
    CHECK(__atomic_load_n(&r.in_callback, __ATOMIC_ACQUIRE) == 0 && r.callbacks == 1);
    CHECK(r.bad == 0);
}

/* ------------------------------------------------------ frees inside callbacks */

struct inside {
    provision_t *h;
    int freed;
    int records_after;
    int callbacks;
};

static void free_in_logger(void *userdata, const provision_log_record_t *record)
{
    struct inside *in = userdata;
    (void)record;
    if (in->freed) {
        in->records_after++;
        return;
    }
    in->freed = 1;
    provision_free(in->h); /* the run goes on; the handle goes when it returns */
}

static void count_refresh(void *userdata, int status, int changed, const char *config)
{
    (void)status;
    (void)changed;
    (void)config;
    __atomic_add_fetch(&((struct inside *)userdata)->callbacks, 1, __ATOMIC_RELAXED);
}

static void test_free_inside_logger(const struct fixture *f)
{
    struct inside in = {load_race(f, 1), 0, 0, 0};
    if (in.h == NULL)
        return;
    /* A worker waiting out its period, and a run whose logger frees the handle. */
    CHECK_STATUS(provision_run(in.h, NULL), PROVISION_OK);
    CHECK_STATUS(provision_start_refresh(in.h, NULL, count_refresh, &in), PROVISION_OK);
    CHECK_STATUS(provision_set_logger(in.h, free_in_logger, &in), PROVISION_OK);
    CHECK_STATUS(provision_run(in.h, NULL), PROVISION_OK);
    CHECK(in.freed == 1);
    /* The run's return released the handle and joined the worker. */
    int callbacks = __atomic_load_n(&in.callbacks, __ATOMIC_ACQUIRE);
    sleep_ms(1200); /* more than a period: a worker still running would call back */
    CHECK(__atomic_load_n(&in.callbacks, __ATOMIC_ACQUIRE) == callbacks);
}

/* On the worker's own thread: the log callback of a refresh attempt frees. */
static void free_in_worker_logger(void *userdata, const provision_log_record_t *record)
{
    struct inside *in = userdata;
    (void)record;
    if (__atomic_exchange_n(&in->freed, 1, __ATOMIC_ACQ_REL) == 0)
        provision_free(in->h);
}

static void test_free_inside_worker_logger(const struct fixture *f)
{
    struct inside in = {load_race(f, 1), 0, 0, 0};
    if (in.h == NULL)
        return;
    CHECK_STATUS(provision_set_logger(in.h, free_in_worker_logger, &in), PROVISION_OK);
    CHECK_STATUS(provision_start_refresh(in.h, NULL, count_refresh, &in), PROVISION_OK);
    double give_up = now_s() + DEADLINE_S;
    while (!__atomic_load_n(&in.freed, __ATOMIC_ACQUIRE) && now_s() < give_up)
        sleep_ms(1);
    CHECK(__atomic_load_n(&in.freed, __ATOMIC_ACQUIRE) == 1);
    sleep_ms(1200); /* the worker ends with its attempt: no callback for it */
    CHECK(__atomic_load_n(&in.callbacks, __ATOMIC_ACQUIRE) == 0);
}

/* ------------------------------------------ set_logger during a run (defect 3) */

struct slow_log {
    int in_old;    /* the old logger is running */
    int old_calls;
    int new_calls;
};

static void slow_old_logger(void *userdata, const provision_log_record_t *record)
{
    struct slow_log *s = userdata;
    (void)record;
    __atomic_store_n(&s->in_old, 1, __ATOMIC_RELEASE);
    sleep_ms(200); /* the other thread replaces the logger meanwhile */
    __atomic_add_fetch(&s->old_calls, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->in_old, 0, __ATOMIC_RELEASE);
}

static void new_logger(void *userdata, const provision_log_record_t *record)
{
    (void)record;
    __atomic_add_fetch(&((struct slow_log *)userdata)->new_calls, 1, __ATOMIC_RELAXED);
}

struct run_arg {
    provision_t *h;
    int status;
};

static void *run_once(void *arg)
{
    struct run_arg *a = arg;
    a->status = provision_run(a->h, NULL);
    return NULL;
}

/* The old logger's userdata (a Python thunk, a C++ function) may go as soon
 * as provision_set_logger returns: no call to it is then under way or to come. */
static void test_set_logger_waits_for_the_old_one(const struct fixture *f)
{
    struct slow_log s = {0, 0, 0};
    provision_t *h = NULL;
    char text[TEXT_MAX];
    /* Two URLs, so that a run makes two records. */
    snprintf(text, sizeof text,
             "<provision><base_urls><base_url>%s/absent/</base_url><base_url>%s/race/</base_url></base_urls>"
             "<options><use_authentication>0</use_authentication></options>"
             "<significant_sections>accounts</significant_sections></provision>",
             f->base, f->base);
    if (!CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK)
        || !CHECK_STATUS(provision_set_logger(h, slow_old_logger, &s), PROVISION_OK))
        return;
    struct run_arg a = {h, -1};
    pthread_t thread;
    if (CHECK(pthread_create(&thread, NULL, run_once, &a) == 0)) {
        double give_up = now_s() + DEADLINE_S;
        while (!__atomic_load_n(&s.in_old, __ATOMIC_ACQUIRE) && now_s() < give_up)
            sleep_ms(1);
        CHECK_STATUS(provision_set_logger(h, new_logger, &s), PROVISION_OK);
        int old_calls = __atomic_load_n(&s.old_calls, __ATOMIC_ACQUIRE);
        CHECK(__atomic_load_n(&s.in_old, __ATOMIC_ACQUIRE) == 0);
        CHECK(old_calls == 1);
        CHECK(pthread_join(thread, NULL) == 0);
        CHECK_STATUS(a.status, PROVISION_OK);
        CHECK(__atomic_load_n(&s.old_calls, __ATOMIC_ACQUIRE) == old_calls);
        CHECK(s.new_calls == 1); /* the run's second record went to the new logger */
    }
    provision_free(h);
}

/* ---------------------------------------------- defect 4: pthread key destructor */

static pthread_key_t late_key;
static int late_status = -1;
static int late_error_read;

static void late_destructor(void *value)
{
    /* Rust's thread-locals of this thread are gone by now (glibc runs the
     * C++/Rust thread-local destructors before pthread key destructors). */
    late_status = provision_set_call_active(value, 1);
    late_error_read = provision_last_error() != NULL;
}

static void *thread_with_late_call(void *h)
{
    provision_set_call_active(h, 0); /* the library's thread-locals exist on this thread */
    pthread_setspecific(late_key, h);
    return NULL;
}

static void test_call_from_key_destructor(const struct fixture *f)
{
    provision_t *h = load_race(f, 0);
    pthread_t thread;
    if (h == NULL || !CHECK(pthread_key_create(&late_key, late_destructor) == 0))
        return;
    if (CHECK(pthread_create(&thread, NULL, thread_with_late_call, h) == 0))
        CHECK(pthread_join(thread, NULL) == 0);
    CHECK_STATUS(late_status, PROVISION_OK);
    CHECK(late_error_read);
    CHECK_STATUS(provision_run(h, NULL), PROVISION_ERR_DEFERRED); /* the late call took effect */
    pthread_key_delete(late_key);
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
        {"defect 1: provision_config, provision_source_url and provision_run on three threads", test_defect_1},
        {"defect 2: provision_free while the refresh callback reads the handle", test_defect_2},
        {"race: readers, outcomes, runs, logger, credentials, calls, worker; free during a callback", test_race},
        {"free inside the log callback of a run: the run completes, the worker is joined", test_free_inside_logger},
        {"free inside the log callback of the worker's attempt: no callback, no crash",
         test_free_inside_worker_logger},
        {"set_logger during a run waits for the old logger, which is not called again",
         test_set_logger_waits_for_the_old_one},
        {"a call from a pthread key destructor returns a status (defect 4)", test_call_from_key_destructor},
    };
    int failed = 0;
    RUN_CASES(cases, &f, failed);
    return failed ? 1 : 0;
}
