/*
 * The lifecycle through the C ABI: the refresh worker and its callback,
 * calls that defer provisioning, back-off, prompt stop (also from inside the
 * callback), provision_refresh_now, the <provision> section, the
 * last-known-good cache, 304, and a multi-thread stress run. It runs under valgrind in `make test`.
 *
 * Run by tests/c/refresh_harness.py as
 *   test_refresh BASE_URL TMPDIR REQUEST_LOG
 * (see there for the routes under BASE_URL; REQUEST_LOG gets a line
 * "SECONDS ROUTE IF-NONE-MATCH" per request, SECONDS on the monotonic clock).
 *
 * Time matters here, so checks are on counts, orders and lower bounds that
 * the schedule guarantees, never on how fast something happened; waits for
 * callbacks have generous timeouts that only bound a failing test.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <provision.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    const char *base; /* http://127.0.0.1:PORT, no trailing slash */
    const char *dir;  /* an empty temp folder; the file "down" there takes /switch/ down */
    const char *log;  /* the server's request log */
};

/* What the routes answer (tests/c/refresh_harness.py). */
#define SERVER_USER "<username>server-user</username>"
#define CHANGED_USER "<username>changed-user</username>"
#define MOVED_USER "<username>moved-user</username>"

enum { TEXT_MAX = 4096, MAX_CALLS = 256, PATIENCE_S = 120 };

/* ------------------------------------------------------------------ time */

static void sleep_s(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ callbacks */

/* Every callback, as the worker reported it. */
struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    int status[MAX_CALLS];
    int changed[MAX_CALLS];
    int has_config[MAX_CALLS];
    char last_config[TEXT_MAX];
    int torn;                 /* a config that is neither answer, or a bad argument */
    provision_t *handle;        /* for the callbacks that stop or free it */
    enum { KEEP, STOP_INSIDE, FREE_INSIDE, ASK_INSIDE_ONCE } inside;
    int inside_status;        /* what provision_stop_refresh returned inside */
};

static void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static void recorder_destroy(struct recorder *r)
{
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
}

/* A merged config holds exactly one of the answers' accounts. */
static int config_is_whole(const char *config)
{
    int n = (strstr(config, SERVER_USER) != NULL) + (strstr(config, CHANGED_USER) != NULL)
            + (strstr(config, MOVED_USER) != NULL);
    return n == 1 && strstr(config, "</options>") != NULL;
}

static void on_refresh(void *userdata, int status, int changed, const char *config)
{
    struct recorder *r = userdata;
    int ok_status = status == PROVISION_OK || status == PROVISION_CACHED;
    if (r->inside == STOP_INSIDE)
        r->inside_status = provision_stop_refresh(r->handle);
    else if (r->inside == FREE_INSIDE)
        provision_free(r->handle);
    else if (r->inside == ASK_INSIDE_ONCE) {
        r->inside = KEEP; /* only the worker reads it once it runs */
        r->inside_status = provision_refresh_now(r->handle, 0);
    }
    pthread_mutex_lock(&r->lock);
    if (r->calls < MAX_CALLS) {
        r->status[r->calls] = status;
        r->changed[r->calls] = changed;
        r->has_config[r->calls] = config != NULL;
    }
    if ((config != NULL) != ok_status || (config != NULL && !config_is_whole(config))
        || (changed != 0 && changed != 1))
        r->torn++;
    if (config != NULL)
        snprintf(r->last_config, sizeof r->last_config, "%s", config);
    r->calls++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Waits until `n` callbacks were made; 0 if that took longer than PATIENCE_S. */
static int wait_calls(struct recorder *r, int n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += PATIENCE_S;
    pthread_mutex_lock(&r->lock);
    int timed_out = 0;
    while (r->calls < n && !timed_out)
        timed_out = pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT;
    int reached = r->calls >= n;
    pthread_mutex_unlock(&r->lock);
    if (!reached)
        printf("#   waited %d s for %d callbacks\n", PATIENCE_S, n);
    return reached;
}

static int calls_of(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->calls;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Starts the worker on `h`, waits for `n` callbacks and stops it; 0 when
 * one of these failed (reported). provision_free stops it in any case. */
static int refresh_n(provision_t *h, struct recorder *r, int n)
{
    return h != NULL && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, r), PROVISION_OK)
           && CHECK(wait_calls(r, n)) && CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
}

/* ---------------------------------------------------------------- server */

/* Arrival times of the requests to `route` (e.g. "/tick/configuration"),
 * in order; returns how many (at most `max`). `conditional` (may be NULL)
 * gets how many carried If-None-Match. */
static int requests_to(const struct fixture *f, const char *route, double *times, int max, int *conditional)
{
    FILE *in = fopen(f->log, "r");
    int n = 0;
    if (conditional)
        *conditional = 0;
    if (in == NULL)
        return 0;
    char line[TEXT_MAX], seen[TEXT_MAX], inm[TEXT_MAX];
    double at;
    while (fgets(line, sizeof line, in) != NULL) {
        if (sscanf(line, "%lf %4095s %4095s", &at, seen, inm) != 3 || strcmp(seen, route) != 0)
            continue;
        if (n < max && times != NULL)
            times[n] = at;
        n++;
        if (conditional && strcmp(inm, "-") != 0)
            (*conditional)++;
    }
    fclose(in);
    return n;
}

static int count_requests(const struct fixture *f, const char *route)
{
    return requests_to(f, route, NULL, 0, NULL);
}

/* A handle on a provision file for BASE + path, without authentication. */
static provision_t *load_for(const struct fixture *f, const char *path, int refresh_rate, const char *sections)
{
    char text[TEXT_MAX];
    provision_t *h = NULL;
    snprintf(text, sizeof text,
             "<provision>\n"
             "  <base_urls><base_url>%s%s</base_url></base_urls>\n"
             "  <options><use_authentication>0</use_authentication><refresh_rate>%d</refresh_rate></options>\n"
             "  <significant_sections>%s</significant_sections>\n"
             "</provision>\n",
             f->base, path, refresh_rate, sections);
    CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK);
    return h;
}

static const char *in_dir(const struct fixture *f, const char *name, char *buf)
{
    snprintf(buf, TEXT_MAX, "%s/%s", f->dir, name);
    return buf;
}

/* ----------------------------------------------------------------- cases */

static void test_refreshes_repeatedly(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/tick/", 1, "accounts");
    if (refresh_n(h, &r, 3)) {
        int calls = calls_of(&r);
        for (int i = 0; i < calls && i < MAX_CALLS; i++)
            CHECK(r.status[i] == PROVISION_OK && r.has_config[i]);
        CHECK(r.changed[0] == 1 && r.changed[1] == 0 && r.changed[2] == 0);
        /* One per callback, and at most one whose attempt was under way
         * when stop came (its callback is not made). */
        int requests = count_requests(f, "/tick/configuration");
        CHECK(requests == calls || requests == calls + 1);
        sleep_s(1.5); /* more than a period: a stopped worker stays stopped */
        CHECK(calls_of(&r) == calls);
        CHECK(strstr(r.last_config, SERVER_USER) != NULL);
        CHECK(r.torn == 0);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_call_defers(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/call/", 1, "accounts");
    if (h && CHECK_STATUS(provision_run(h, NULL), PROVISION_OK)) {
        CHECK_STATUS(provision_set_call_active(h, 1), PROVISION_OK);
        CHECK_STATUS(provision_run(h, NULL), PROVISION_ERR_DEFERRED);
        CHECK(provision_config(h) != NULL); /* the last outcome stays */
        CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK);
        sleep_s(2.5); /* two periods and a half during the call */
        CHECK(calls_of(&r) == 0);
        CHECK(count_requests(f, "/call/configuration") == 1);

        CHECK_STATUS(provision_set_call_active(h, 0), PROVISION_OK);
        CHECK(wait_calls(&r, 2));
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
        /* One attempt at hang-up for all the missed periods: the one after
         * it keeps to the period instead of catching up. */
        double t[3] = {0};
        CHECK(requests_to(f, "/call/configuration", t, 3, NULL) >= 3);
        CHECK(t[2] - t[1] >= 0.9);
        CHECK(r.torn == 0);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_backoff(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/busy/", 60, "accounts");
    if (refresh_n(h, &r, 3)) {
        CHECK(r.status[0] == PROVISION_ERR_FETCH && r.status[2] == PROVISION_ERR_FETCH);
        CHECK(!r.has_config[0]);
        double t[3] = {0};
        CHECK(requests_to(f, "/busy/configuration", t, 3, NULL) == 3);
        double g0 = t[1] - t[0], g1 = t[2] - t[1];
        /* 1 s then 2 s, each less up to 25%, all before the 60 s period. */
        if (!CHECK(g0 >= 0.75 && g1 >= 1.5 && g1 > g0 && g1 < 60))
            printf("#     gaps %.3f s, %.3f s\n", g0, g1);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_stop_is_prompt(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/stop/", 3600, "accounts");
    if (h && CHECK_STATUS(provision_run(h, NULL), PROVISION_OK)
        && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK)) {
        /* The next attempt is an hour away. */
        CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_ERR_ARGUMENT);
        double asked = now_s();
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
        CHECK(now_s() - asked < 30);
        CHECK(calls_of(&r) == 0);
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK); /* none runs: fine */
        /* A worker may be started again, and freeing the handle stops it. */
        CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK);
    }
    double asked = now_s();
    provision_free(h);
    CHECK(now_s() - asked < 30);
    CHECK(count_requests(f, "/stop/configuration") == 1);
    recorder_destroy(&r);
}

static void test_stop_inside_callback(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/inside/", 1, "accounts");
    r.handle = h;
    r.inside = STOP_INSIDE;
    r.inside_status = -1;
    if (h && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK)) {
        CHECK(wait_calls(&r, 1));
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK); /* joins the worker */
        CHECK(r.inside_status == PROVISION_OK);
        CHECK(calls_of(&r) == 1);
        CHECK(count_requests(f, "/inside/configuration") == 1);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_free_inside_callback(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/free/", 1, "accounts");
    r.handle = h;
    r.inside = FREE_INSIDE;
    if (h && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK)) {
        CHECK(wait_calls(&r, 1));
        sleep_s(1.5); /* the worker ended with the callback: no second one */
        CHECK(calls_of(&r) == 1);
        CHECK(count_requests(f, "/free/configuration") == 1);
    }
    recorder_destroy(&r);
}

static void test_refresh_now(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    CHECK_STATUS(provision_refresh_now(NULL, 0), PROVISION_ERR_ARGUMENT);
    provision_t *h = load_for(f, "/now/", 3600, "accounts");
    if (h) {
        CHECK_STATUS(provision_refresh_now(h, 0), PROVISION_ERR_ARGUMENT); /* no worker yet */
        CHECK(strstr(provision_last_error(), "no refresh worker") != NULL);
    }
    r.handle = h;
    r.inside = ASK_INSIDE_ONCE;
    r.inside_status = -1;
    /* The first attempt is at once; its callback asks for another at once,
     * not in half an hour as scheduled. */
    if (h && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK) && CHECK(wait_calls(&r, 2))) {
        CHECK(r.inside_status == PROVISION_OK);
        /* During a call, asks wait for hang-up and coalesce into one attempt. */
        CHECK_STATUS(provision_set_call_active(h, 1), PROVISION_OK);
        for (int i = 0; i < 5; i++)
            CHECK_STATUS(provision_refresh_now(h, i % 2 ? 300 : 0), PROVISION_OK);
        sleep_s(1.0);
        CHECK(calls_of(&r) == 2);
        CHECK_STATUS(provision_set_call_active(h, 0), PROVISION_OK);
        CHECK(wait_calls(&r, 3));
        sleep_s(1.0); /* more than the longest delay asked: nothing else comes */
        CHECK(calls_of(&r) == 3);
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
        CHECK_STATUS(provision_refresh_now(h, 0), PROVISION_ERR_ARGUMENT); /* stopped */
        CHECK(count_requests(f, "/now/configuration") == 3);
        CHECK(r.torn == 0);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_changed_only_on_change(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/changes/", 1, "accounts");
    if (refresh_n(h, &r, 4)) {
        if (!CHECK(r.changed[0] == 1 && r.changed[1] == 0 && r.changed[2] == 1 && r.changed[3] == 0))
            printf("#     changed: %d %d %d %d\n", r.changed[0], r.changed[1], r.changed[2], r.changed[3]);
        const char *config = provision_config(h);
        CHECK(config != NULL && strstr(config, CHANGED_USER) != NULL);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_provision_section_moves(const struct fixture *f)
{
    struct recorder r;
    char moved[TEXT_MAX], saved[TEXT_MAX];
    recorder_init(&r);
    snprintf(moved, sizeof moved, "%s/moved/", f->base);
    provision_t *h = load_for(f, "/mover/", 60, "accounts,provision");
    if (refresh_n(h, &r, 2)) { /* the section set the period to 1 s */
        CHECK(strstr(r.last_config, MOVED_USER) != NULL);
        const char *source = provision_source_url(h);
        CHECK(source != NULL && strcmp(source, moved) == 0);
        CHECK(count_requests(f, "/mover/configuration") == 1);
        CHECK(count_requests(f, "/moved/configuration") >= 1);

        CHECK_STATUS(provision_save(h, in_dir(f, "saved.conf", saved)), PROVISION_OK);
        provision_t *again = NULL;
        if (CHECK_STATUS(provision_load(saved, &again), PROVISION_OK)
            && CHECK_STATUS(provision_run(again, NULL), PROVISION_OK)) {
            source = provision_source_url(again);
            CHECK(source != NULL && strcmp(source, moved) == 0);
        }
        provision_free(again);
        struct stat st;
        CHECK(stat(saved, &st) == 0 && (st.st_mode & 07777) == 0600);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_cache(const struct fixture *f)
{
    struct recorder r;
    char cache[TEXT_MAX], down[TEXT_MAX];
    recorder_init(&r);
    in_dir(f, "cache.xml", cache);
    in_dir(f, "down", down);
    provision_t *before = load_for(f, "/switch/", 60, "accounts");
    if (before && CHECK_STATUS(provision_set_cache(before, cache), PROVISION_OK)
        && CHECK_STATUS(provision_run(before, NULL), PROVISION_OK)) {
        struct stat st;
        CHECK(stat(cache, &st) == 0 && (st.st_mode & 07777) == 0600);
    }
    provision_free(before);

    /* The restart, with the server down. */
    FILE *flag = fopen(down, "w");
    CHECK(flag != NULL && fclose(flag) == 0);
    provision_t *h = load_for(f, "/switch/", 60, "accounts");
    if (h && CHECK_STATUS(provision_set_cache(h, cache), PROVISION_OK)
        && CHECK_STATUS(provision_run(h, NULL), PROVISION_CACHED)) {
        CHECK(strstr(provision_last_error(), "/switch/configuration: HTTP 503") != NULL);
        const char *config = provision_config(h);
        CHECK(config != NULL && strstr(config, SERVER_USER) != NULL);
        CHECK(provision_source_url(h) == NULL);
        CHECK(provision_is_provisioned(h, "accounts") == 1);

        /* Back up: the worker's retry (a back-off, not a period) serves and
         * writes the cache again. */
        CHECK(unlink(cache) == 0 && unlink(down) == 0);
        if (refresh_n(h, &r, 1)) {
            CHECK(r.status[0] == PROVISION_OK);
            CHECK(access(cache, F_OK) == 0);
            CHECK(provision_source_url(h) != NULL);
        }
    }
    provision_free(h);

    /* A corrupt cache is ignored: the failure is the fetch's own. */
    flag = fopen(down, "w");
    CHECK(flag != NULL && fclose(flag) == 0);
    FILE *bad = fopen(cache, "w");
    CHECK(bad != NULL && fputs("<options><accounts>", bad) >= 0 && fclose(bad) == 0);
    h = load_for(f, "/switch/", 60, "accounts");
    if (h && CHECK_STATUS(provision_set_cache(h, cache), PROVISION_OK)) {
        CHECK_STATUS(provision_run(h, NULL), PROVISION_ERR_FETCH);
        CHECK(provision_config(h) == NULL);
    }
    provision_free(h);
    CHECK(unlink(down) == 0);
    recorder_destroy(&r);
}

static void test_not_modified(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/etag/", 1, "accounts");
    if (refresh_n(h, &r, 3)) {
        CHECK(r.status[1] == PROVISION_OK && r.status[2] == PROVISION_OK);
        CHECK(r.changed[0] == 1 && r.changed[1] == 0 && r.changed[2] == 0);
        CHECK(strstr(r.last_config, SERVER_USER) != NULL);
        int conditional = 0;
        int n = requests_to(f, "/etag/configuration", NULL, 0, &conditional);
        CHECK(n >= 3 && conditional == n - 1);
    }
    provision_free(h);
    recorder_destroy(&r);
}

static void test_arguments(const struct fixture *f)
{
    char path[TEXT_MAX];
    CHECK_STATUS(provision_set_call_active(NULL, 1), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_start_refresh(NULL, NULL, on_refresh, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_stop_refresh(NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_cache(NULL, "x"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_save(NULL, "x"), PROVISION_ERR_ARGUMENT);
    provision_t *h = load_for(f, "/tick/", 0, "accounts");
    if (h) {
        CHECK_STATUS(provision_start_refresh(h, NULL, NULL, NULL), PROVISION_ERR_ARGUMENT);
        CHECK(strstr(provision_last_error(), "refresh_rate") != NULL);
        CHECK_STATUS(provision_set_cache(h, ""), PROVISION_ERR_ARGUMENT);
        CHECK_STATUS(provision_set_cache(h, NULL), PROVISION_OK);
        CHECK_STATUS(provision_save(h, NULL), PROVISION_ERR_ARGUMENT);
        CHECK_STATUS(provision_save(h, in_dir(f, "absent/p.conf", path)), PROVISION_ERR_IO);
    }
    provision_free(h);
}

/* ---------------------------------------------------------------- stress */

/* Each thread keeps going until the time is up AND it has done a few
 * rounds of its own, so a slow or unfairly scheduled run (valgrind runs one
 * thread at a time) still exercises every path; `deadline` only stops a
 * wedged run from hanging the suite. */
struct stress {
    provision_t *h;
    struct recorder *r;
    double until, deadline;
    int bad[3];     /* per thread: a status that makes no sense here */
    int runs, toggles, restarts;
    int finished;   /* threads done; read with __atomic by the reader */
};

static int keep_going(const struct stress *s, int done, int at_least)
{
    double t = now_s();
    return t < s->deadline && (t < s->until || done < at_least);
}

static void *finish(struct stress *s)
{
    __atomic_add_fetch(&s->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *toggle_calls(void *arg)
{
    struct stress *s = arg;
    for (int active = 1; keep_going(s, s->toggles, 20); active = !active, s->toggles++) {
        if (provision_set_call_active(s->h, active) != PROVISION_OK)
            s->bad[0]++;
        int asked = provision_refresh_now(s->h, 50); /* races the worker's restarts */
        if (asked != PROVISION_OK && asked != PROVISION_ERR_ARGUMENT)
            s->bad[0]++;
        sleep_s(0.003);
    }
    return finish(s);
}

/* Bursts of runs with quiet gaps longer than the period: the worker's
 * schedule follows every success, so it only asks in the gaps. */
static void *run_often(void *arg)
{
    struct stress *s = arg;
    while (keep_going(s, s->runs, 5)) {
        for (double burst_end = now_s() + 0.5; now_s() < burst_end; s->runs++) {
            int status = provision_run(s->h, NULL);
            if (status != PROVISION_OK && status != PROVISION_ERR_DEFERRED && status != PROVISION_ERR_FETCH
                && status != PROVISION_CACHED)
                s->bad[1]++;
        }
        sleep_s(1.5);
    }
    return finish(s);
}

static void *restart_worker(void *arg)
{
    struct stress *s = arg;
    for (; keep_going(s, s->restarts, 3); s->restarts++) {
        int status = provision_start_refresh(s->h, NULL, on_refresh, s->r);
        if (status != PROVISION_OK && status != PROVISION_ERR_ARGUMENT)
            s->bad[2]++;
        sleep_s(0.7);
        if (provision_stop_refresh(s->h) != PROVISION_OK)
            s->bad[2]++;
    }
    return finish(s);
}

static void test_stress(const struct fixture *f)
{
    struct recorder r;
    char cache[TEXT_MAX];
    recorder_init(&r);
    provision_t *h = load_for(f, "/stress/", 1, "accounts");
    struct stress s = {h, &r, 0, 0, {0, 0, 0}, 0, 0, 0, 0};
    if (h && CHECK_STATUS(provision_set_cache(h, in_dir(f, "stress-cache.xml", cache)), PROVISION_OK)
        && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK)) {
        s.until = now_s() + 4;
        s.deadline = s.until + PATIENCE_S;
        pthread_t threads[3];
        void *(*bodies[3])(void *) = {toggle_calls, run_often, restart_worker};
        int started = 0;
        while (started < 3 && CHECK(pthread_create(&threads[started], NULL, bodies[started], &s) == 0))
            started++;
        /* This thread is the only reader of the handle's strings: a pointer
         * is valid until the next call on the handle. It naps between reads:
         * a busy reader starved the other threads under valgrind. */
        int reads = 0, torn = 0;
        for (; __atomic_load_n(&s.finished, __ATOMIC_ACQUIRE) < started; sleep_s(0.0002)) {
            const char *config = provision_config(h);
            if (config != NULL && !config_is_whole(config))
                torn++;
            const char *source = provision_source_url(h);
            if (source != NULL && strstr(source, "/stress/") == NULL)
                torn++;
            reads++;
        }
        for (int i = 0; i < started; i++)
            CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK_STATUS(provision_set_call_active(h, 0), PROVISION_OK);
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
        CHECK(torn == 0 && r.torn == 0 && s.bad[0] + s.bad[1] + s.bad[2] == 0);
        CHECK(s.runs > 0 && s.toggles > 0 && s.restarts > 0 && reads > 0);
        CHECK(count_requests(f, "/stress/configuration") > 0);
        printf("# stress: %d runs, %d toggles, %d worker restarts, %d callbacks, %d reads\n", s.runs,
               s.toggles, s.restarts, calls_of(&r), reads);
    }
    provision_free(h);
    recorder_destroy(&r);
}

/* --------------------------------------------------- network settings */

/* The header promises that the network setters may be called from any
 * thread while runs and the refresh worker use the handle: one thread
 * changes them in a loop while this one runs and the worker refreshes. */
struct setter {
    provision_t *h;
    int rounds, bad, stop; /* stop: read with __atomic */
};

static void *change_network(void *arg)
{
    struct setter *s = arg;
    char value[32];
    for (; s->rounds < 30 || !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE); s->rounds++) {
        snprintf(value, sizeof value, "round-%d", s->rounds);
        int statuses[] = {
            provision_set_header(s->h, "X-Round", value),
            provision_set_variable(s->h, "round", value),
            provision_set_proxy(s->h, s->rounds % 2 ? "" : NULL),
            provision_set_client_cert(s->h, NULL, NULL),
            provision_set_header(s->h, "X-Gone", s->rounds % 2 ? "x" : NULL),
        };
        for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
            s->bad += statuses[i] != PROVISION_OK;
        if (s->rounds > 10000)
            break; /* a wedged reader must not hang the suite */
    }
    return NULL;
}

static void test_network_setters_race(const struct fixture *f)
{
    struct recorder r;
    recorder_init(&r);
    provision_t *h = load_for(f, "/tick/", 1, "accounts");
    struct setter s = {h, 0, 0, 0};
    pthread_t thread;
    if (h && CHECK_STATUS(provision_start_refresh(h, NULL, on_refresh, &r), PROVISION_OK)
        && CHECK(pthread_create(&thread, NULL, change_network, &s) == 0)) {
        int runs = 0, failed = 0;
        for (; runs < 10; runs++)
            failed += provision_run(h, NULL) != PROVISION_OK;
        __atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
        CHECK(pthread_join(thread, NULL) == 0);
        CHECK_STATUS(provision_stop_refresh(h), PROVISION_OK);
        CHECK(failed == 0 && s.bad == 0 && r.torn == 0);
        printf("# network setters: %d rounds of changes during %d runs\n", s.rounds, runs);
    }
    provision_free(h);
    recorder_destroy(&r);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s BASE_URL TMPDIR REQUEST_LOG\n(run it through tests/c/refresh_harness.py)\n",
                argv[0]);
        return 2;
    }
    const struct fixture f = {argv[1], argv[2], argv[3]};
    static const struct {
        const char *name;
        void (*run)(const struct fixture *);
    } cases[] = {
        {"refresh: a period of 1 s refreshes repeatedly", test_refreshes_repeatedly},
        {"call: no request during a call, one after hang-up, run is DEFERRED", test_call_defers},
        {"back-off: gaps between failed requests grow, below the period", test_backoff},
        {"stop: prompt during a period, and by provision_free", test_stop_is_prompt},
        {"stop from inside the callback: no deadlock, no further callback", test_stop_inside_callback},
        {"free from inside the callback: no deadlock, no further callback", test_free_inside_callback},
        {"refresh_now: at once, from the callback, waits for hang-up, coalesces; ARGUMENT without a worker",
         test_refresh_now},
        {"changed: 1 only when the merged config changed", test_changed_only_on_change},
        {"<provision> section: the next refresh asks the new server; save keeps it", test_provision_section_moves},
        {"cache: serves a restart while down (CACHED), refreshed when back", test_cache},
        {"304: the config stays, changed is 0", test_not_modified},
        {"arguments: NULL, refresh_rate 0, empty cache path", test_arguments},
        {"stress: refresh, call toggling and runs from several threads", test_stress},
        {"network setters from another thread during runs and refreshes", test_network_setters_race},
    };
    int failed = 0;
    RUN_CASES(cases, &f, failed);
    return failed ? 1 : 0;
}
