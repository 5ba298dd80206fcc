/*
 * The C ABI of libprovision, end to end against loopback servers.
 *
 * Run by tests/c/harness.py as
 *   test_provision DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD
 * (see there for what each URL serves). Prints `ok - NAME` or
 * `not ok - NAME` per case, `#` lines for what failed, and exits 1 when a
 * case failed. Everything it allocates is freed: it runs under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <provision.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    const char *dead;     /* a base URL that refuses connections */
    const char *live;     /* a base URL serving a good <options> answer */
    const char *error;    /* a base URL answering <error>Wrong username or password</error> */
    const char *dir;      /* an empty temp folder */
    const char *user;     /* credentials sent with basic authentication */
    const char *password;
};

/* What the live server's answer holds (tests/c/harness.py). */
#define SERVER_ACCOUNT "<username>server-user</username>"
#define SERVER_CODEC "<name>opus</name>"
#define SERVER_AUDIO "server-audio"

/* A local config: the head and the audio must survive a merge byte for
 * byte; the accounts must give way to the server's. */
static const char LOCAL_HEAD[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- edited by hand: keep me -->\n"
    "<options>\n";
static const char LOCAL_AUDIO[] =
    "  <audio><volume>7</volume><ring_device>local-speaker</ring_device></audio>\n";
static const char LOCAL_ACCOUNTS[] =
    "  <accounts><account><username>local-user</username></account></accounts>\n";
static const char LOCAL_TAIL[] = "</options>\n";

enum { TEXT_MAX = 4096 };

/* ----------------------------------------------------------------- files */

/* dir/name in buf (TEXT_MAX bytes); returns buf. */
static const char *in_dir(const struct fixture *f, const char *name, char *buf)
{
    int n = snprintf(buf, TEXT_MAX, "%s/%s", f->dir, name);
    CHECK(n > 0 && n < TEXT_MAX);
    return buf;
}

static int write_text(const char *path, const char *text)
{
    FILE *out = fopen(path, "w");
    if (out == NULL)
        return 0;
    int written = fputs(text, out) >= 0;
    return (fclose(out) == 0) && written;
}

/* The file's contents, to free(); NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return NULL;
    char *text = calloc(TEXT_MAX, 1);
    size_t n = text ? fread(text, 1, TEXT_MAX - 1, in) : 0;
    int complete = text && !ferror(in) && feof(in);
    fclose(in);
    if (!complete || n == 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int write_local_config(const char *path)
{
    char text[TEXT_MAX];
    snprintf(text, sizeof text, "%s%s%s%s", LOCAL_HEAD, LOCAL_AUDIO, LOCAL_ACCOUNTS, LOCAL_TAIL);
    return CHECK(write_text(path, text));
}

/* A provision file asking `urls` (NULL-terminated) in turn, with the
 * fixture's credentials; accounts and codecs are significant, audio is not. */
static int provision_text(const struct fixture *f, const char *const *urls, char *buf)
{
    int n = snprintf(buf, TEXT_MAX, "<provision>\n  <base_urls>\n");
    for (; *urls != NULL && n > 0 && n < TEXT_MAX; urls++)
        n += snprintf(buf + n, TEXT_MAX - n, "    <base_url>%s</base_url>\n", *urls);
    if (n > 0 && n < TEXT_MAX)
        n += snprintf(buf + n, TEXT_MAX - n,
                      "  </base_urls>\n"
                      "  <options>\n"
                      "    <use_authentication>1</use_authentication>\n"
                      "    <user_input_authentication>0</user_input_authentication>\n"
                      "    <authentication_type>basic</authentication_type>\n"
                      "    <user>%s</user>\n"
                      "    <password>%s</password>\n"
                      "    <refresh_rate>0</refresh_rate>\n"
                      "  </options>\n"
                      "  <significant_sections>accounts,codecs</significant_sections>\n"
                      "</provision>\n",
                      f->user, f->password);
    return CHECK(n > 0 && n < TEXT_MAX);
}

/* Writes the provision file `name` for `urls`, loads it into *h and runs it
 * with the local config `local` (may be NULL). Returns the first failing
 * status, or PROVISION_OK. The caller frees *h. */
static int provision_from(const struct fixture *f, const char *name, const char *const *urls,
                          const char *local, provision_t **h)
{
    char text[TEXT_MAX], path[TEXT_MAX];
    *h = NULL;
    if (!provision_text(f, urls, text) || !CHECK(write_text(in_dir(f, name, path), text)))
        return -1;
    int status = provision_load(path, h);
    return status != PROVISION_OK ? status : provision_run(*h, local);
}

/* ----------------------------------------------------------------- cases */

static void test_fallback(const struct fixture *f)
{
    const char *urls[] = {f->dead, f->live, NULL};
    provision_t *h = NULL;
    if (CHECK_STATUS(provision_from(f, "fallback.conf", urls, NULL, &h), PROVISION_OK)) {
        CHECK_TEXT(provision_source_url(h), f->live);
        const char *config = provision_config(h);
        CHECK(config != NULL && strstr(config, SERVER_ACCOUNT) != NULL);
        CHECK(config != NULL && strstr(config, SERVER_CODEC) != NULL);
        CHECK(config != NULL && strstr(config, SERVER_AUDIO) == NULL);
    }
    provision_free(h);
}

static void test_merge(const struct fixture *f)
{
    const char *urls[] = {f->live, NULL};
    char local[TEXT_MAX];
    provision_t *h = NULL;
    if (!write_local_config(in_dir(f, "merge-local.xml", local)))
        return;
    if (CHECK_STATUS(provision_from(f, "merge.conf", urls, local, &h), PROVISION_OK)) {
        const char *merged = provision_config(h);
        if (CHECK(merged != NULL)) {
            CHECK(strncmp(merged, LOCAL_HEAD, strlen(LOCAL_HEAD)) == 0);
            CHECK(strstr(merged, LOCAL_AUDIO) != NULL);
            CHECK(strstr(merged, SERVER_ACCOUNT) != NULL);
            CHECK(strstr(merged, SERVER_CODEC) != NULL);
            CHECK(strstr(merged, "local-user") == NULL);
            CHECK(strstr(merged, SERVER_AUDIO) == NULL);
            size_t n = strlen(merged);
            CHECK(n > strlen(LOCAL_TAIL) && strcmp(merged + n - strlen(LOCAL_TAIL), LOCAL_TAIL) == 0);
        }
        CHECK(provision_is_provisioned(h, "accounts") == 1);
        CHECK(provision_is_provisioned(h, "codecs") == 1);
        CHECK(provision_is_provisioned(h, "audio") == 0);
        char *unchanged = read_text(local);
        CHECK(unchanged != NULL && strstr(unchanged, LOCAL_ACCOUNTS) != NULL);
        free(unchanged);
    }
    provision_free(h);
}

static void test_store_local(const struct fixture *f)
{
    const char *urls[] = {f->live, NULL};
    char local[TEXT_MAX], stored[TEXT_MAX], want[TEXT_MAX];
    provision_t *h = NULL;
    if (!write_local_config(in_dir(f, "store-local.xml", local)))
        return;
    in_dir(f, "stored.xml", stored);
    if (CHECK_STATUS(provision_from(f, "store.conf", urls, local, &h), PROVISION_OK)
        && CHECK_STATUS(provision_store_local(h, NULL, stored), PROVISION_OK)) {
        /* The local config without its accounts: the server owns them now. */
        snprintf(want, sizeof want, "%s%s%s", LOCAL_HEAD, LOCAL_AUDIO, LOCAL_TAIL);
        char *text = read_text(stored);
        CHECK_TEXT(text, want);
        free(text);
        struct stat st;
        CHECK(stat(stored, &st) == 0 && (st.st_mode & 07777) == 0600);
    }
    provision_free(h);
}

static void test_server_error(const struct fixture *f)
{
    const char *urls[] = {f->dead, f->error, NULL};
    provision_t *h = NULL;
    CHECK_STATUS(provision_from(f, "error.conf", urls, NULL, &h), PROVISION_ERR_SERVER);
    CHECK_TEXT(provision_last_error(), "Wrong username or password");
    CHECK(h != NULL && provision_config(h) == NULL && provision_source_url(h) == NULL);
    provision_free(h);
}

static void test_all_dead(const struct fixture *f)
{
    const char *urls[] = {f->dead, NULL};
    provision_t *h = NULL;
    CHECK_STATUS(provision_from(f, "dead.conf", urls, NULL, &h), PROVISION_ERR_FETCH);
    const char *message = provision_last_error();
    if (!CHECK(strstr(message, f->dead) != NULL && strstr(message, f->password) == NULL))
        printf("#     message: \"%s\"\n", message);
    provision_free(h);
}

static void test_null_arguments(const struct fixture *f)
{
    static char sentinel;
    const char *urls[] = {f->live, NULL};
    char text[TEXT_MAX], path[TEXT_MAX];
    provision_t *h = (provision_t *)&sentinel;

    CHECK_STATUS(provision_load(NULL, &h), PROVISION_ERR_ARGUMENT);
    CHECK(h == NULL);
    CHECK(provision_last_error()[0] != '\0');
    CHECK_STATUS(provision_load(in_dir(f, "never-written.xml", path), NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_load_xml(NULL, &h), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_run(NULL, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_credentials(NULL, "u", "p"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_store_local(NULL, "<options/>", path), PROVISION_ERR_ARGUMENT);
    CHECK(provision_config(NULL) == NULL);
    CHECK(provision_source_url(NULL) == NULL);
    CHECK(provision_is_provisioned(NULL, "accounts") == 0);
    provision_free(NULL);

    if (!provision_text(f, urls, text) || !CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        return;
    CHECK_STATUS(provision_set_credentials(h, NULL, "p"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_credentials(h, "u", NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_store_local(h, NULL, NULL), PROVISION_ERR_ARGUMENT);
    /* No config given and no run yet: nothing to store. */
    CHECK_STATUS(provision_store_local(h, NULL, path), PROVISION_ERR_ARGUMENT);
    CHECK(access(path, F_OK) != 0);
    CHECK(provision_is_provisioned(h, NULL) == 0);
    CHECK(provision_config(h) == NULL && provision_source_url(h) == NULL);
    provision_free(h);
}

static void test_missing_file(const struct fixture *f)
{
    static char sentinel;
    char path[TEXT_MAX];
    provision_t *h = (provision_t *)&sentinel;
    CHECK_STATUS(provision_load(in_dir(f, "absent/provision.conf", path), &h), PROVISION_ERR_NOT_FOUND);
    CHECK(h == NULL);
    CHECK(strstr(provision_last_error(), path) != NULL);
}

static void test_last_error_cleared(const struct fixture *f)
{
    const char *urls[] = {f->live, NULL};
    char text[TEXT_MAX];
    provision_t *h = NULL;
    CHECK_STATUS(provision_load_xml("<provision/>", &h), PROVISION_ERR_FORMAT);
    CHECK(provision_last_error()[0] != '\0');
    if (provision_text(f, urls, text) && CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        CHECK_TEXT(provision_last_error(), "");
    provision_free(h);
}

static void test_version(const struct fixture *f)
{
    (void)f;
    char macros[64];
    snprintf(macros, sizeof macros, "%d.%d.%d", PROVISION_VERSION_MAJOR, PROVISION_VERSION_MINOR,
             PROVISION_VERSION_PATCH);
    CHECK_TEXT(provision_version(), PROVISION_VERSION);
    CHECK_TEXT(PROVISION_VERSION, macros);
}

static void test_status_names(const struct fixture *f)
{
    (void)f;
    CHECK_TEXT(provision_status_name(PROVISION_OK), "PROVISION_OK");
    CHECK_TEXT(provision_status_name(PROVISION_ERR_FETCH), "PROVISION_ERR_FETCH");
    CHECK_TEXT(provision_status_name(PROVISION_CACHED), "PROVISION_CACHED");
    CHECK_TEXT(provision_status_name(-1), "PROVISION_UNKNOWN");
    CHECK_TEXT(provision_status_name(1000), "PROVISION_UNKNOWN");
}

/* An outcome outlives the handle and later runs, and says what the run did. */
static void test_outcome(const struct fixture *f)
{
    const char *urls[] = {f->dead, f->live, NULL};
    provision_t *h = NULL;
    CHECK(provision_last_outcome(NULL) == NULL);
    if (CHECK_STATUS(provision_from(f, "outcome.conf", urls, NULL, &h), PROVISION_OK)) {
        provision_outcome_t *o = provision_last_outcome(h);
        provision_outcome_t *again = provision_last_outcome(h);
        if (CHECK(o != NULL && again != NULL)) {
            const char *config = provision_outcome_config(o);
            CHECK(config != NULL && strstr(config, SERVER_ACCOUNT) != NULL);
            CHECK_TEXT(provision_outcome_source_url(o), f->live);
            CHECK_TEXT(provision_outcome_provisioned(o), "accounts,codecs");
            CHECK(provision_outcome_is_provisioned(o, "codecs") == 1);
            CHECK(provision_outcome_is_provisioned(o, "audio") == 0);
            CHECK(provision_outcome_is_provisioned(o, NULL) == 0);
            CHECK(provision_outcome_from_cache(o) == 0);
            /* A second run makes a new outcome; the first stays as it was. */
            CHECK_STATUS(provision_run(h, NULL), PROVISION_OK);
            provision_free(h);
            h = NULL;
            CHECK_TEXT(provision_outcome_config(o), config);
            CHECK_TEXT(provision_outcome_config(again), config);
        }
        provision_outcome_free(o);
        provision_outcome_free(again);
    }
    provision_free(h);
    CHECK(provision_outcome_config(NULL) == NULL && provision_outcome_source_url(NULL) == NULL);
    CHECK(provision_outcome_provisioned(NULL) == NULL && provision_outcome_from_cache(NULL) == 0);
    provision_outcome_free(NULL);
}

static void test_timeouts_and_ca_file(const struct fixture *f)
{
    const char *urls[] = {f->dead, f->live, NULL};
    char text[TEXT_MAX], path[TEXT_MAX];
    provision_t *h = NULL;
    CHECK_STATUS(provision_set_timeouts(NULL, 1000, 1000), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_ca_file(NULL, NULL), PROVISION_ERR_ARGUMENT);
    if (!provision_text(f, urls, text) || !CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        return;
    CHECK_STATUS(provision_set_timeouts(h, 0, 1000), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_timeouts(h, 2000, 10000), PROVISION_OK);
    CHECK_STATUS(provision_set_ca_file(h, in_dir(f, "absent-ca.pem", path)), PROVISION_ERR_IO);
    CHECK(strstr(provision_last_error(), "absent-ca.pem") != NULL);
    CHECK(write_text(in_dir(f, "junk-ca.pem", path), "not a certificate\n"));
    CHECK_STATUS(provision_set_ca_file(h, path), PROVISION_ERR_FORMAT);
    CHECK_STATUS(provision_set_ca_file(h, NULL), PROVISION_OK);
    CHECK_STATUS(provision_run(h, NULL), PROVISION_OK);
    provision_free(h);
}

/* Issue 12's setters: refusals are statuses with a message that never
 * repeats a secret, an unknown template placeholder is FORMAT before any
 * request, and a run after the accepted settings works. */
static void test_network_settings(const struct fixture *f)
{
    const char *urls[] = {f->live, NULL};
    char text[TEXT_MAX], path[TEXT_MAX], templated[TEXT_MAX];
    provision_t *h = NULL;
    CHECK_STATUS(provision_set_client_cert(NULL, NULL, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_proxy(NULL, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_header(NULL, "X-A", "b"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_variable(NULL, "a", "b"), PROVISION_ERR_ARGUMENT);
    if (!provision_text(f, urls, text) || !CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        return;
    CHECK_STATUS(provision_set_client_cert(h, in_dir(f, "absent.crt", path), path), PROVISION_ERR_IO);
    CHECK(strstr(provision_last_error(), "absent.crt") != NULL);
    CHECK_STATUS(provision_set_client_cert(h, path, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_client_cert(h, "", ""), PROVISION_ERR_ARGUMENT);
    CHECK(write_text(in_dir(f, "junk.pem", path), "not a certificate\n"));
    CHECK_STATUS(provision_set_client_cert(h, path, path), PROVISION_ERR_FORMAT);
    CHECK_STATUS(provision_set_client_cert(h, NULL, NULL), PROVISION_OK);

    CHECK_STATUS(provision_set_proxy(h, "socks5://u:c-proxy-pw@127.0.0.1:1"), PROVISION_ERR_ARGUMENT);
    CHECK(strstr(provision_last_error(), "c-proxy-pw") == NULL);
    CHECK_STATUS(provision_set_proxy(h, ""), PROVISION_OK);

    CHECK_STATUS(provision_set_header(h, "Authorization", "x"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_header(h, "X-Token", "a\r\nInjected: 1"), PROVISION_ERR_ARGUMENT);
    CHECK(strstr(provision_last_error(), "Injected") == NULL);
    CHECK_STATUS(provision_set_header(h, NULL, "x"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_header(h, "X-Device", "c-test"), PROVISION_OK);
    CHECK_STATUS(provision_set_header(h, "X-Device", NULL), PROVISION_OK);

    CHECK_STATUS(provision_set_variable(h, "password", "x"), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_set_variable(h, "version", "1.14"), PROVISION_OK);
    CHECK_STATUS(provision_run(h, NULL), PROVISION_OK);
    provision_free(h);

    /* A template with a typo: FORMAT naming it, and no request (the harness
     * checks that no query ever reached the server). */
    snprintf(templated, sizeof templated, "%s?v=[versoin]", f->live);
    const char *typo[] = {templated, NULL};
    if (!provision_text(f, typo, text) || !CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        return;
    CHECK_STATUS(provision_run(h, NULL), PROVISION_ERR_FORMAT);
    CHECK(strstr(provision_last_error(), "[versoin]") != NULL);
    provision_free(h);
}

/* The library under test is built with the `test-hooks` feature: with
 * PROVISION_TEST_PANIC set, every exported function panics inside its
 * boundary. The panic must come out as PROVISION_ERR_INTERNAL, leak nothing
 * (valgrind) and leave the process and the handle working. */
static void test_forced_panic(const struct fixture *f)
{
    const char *urls[] = {f->live, NULL};
    char text[TEXT_MAX];
    provision_t *h = NULL, *other = NULL;
    if (!provision_text(f, urls, text) || !CHECK_STATUS(provision_load_xml(text, &h), PROVISION_OK))
        return;
    setenv("PROVISION_TEST_PANIC", "1", 1);
    int load = provision_load_xml(text, &other);
    int run = provision_run(h, NULL);
    const char *config = provision_config(h);
    unsetenv("PROVISION_TEST_PANIC");
    if (load == PROVISION_OK)
        printf("#   the library was not built with --features test-hooks\n");
    CHECK_STATUS(load, PROVISION_ERR_INTERNAL);
    CHECK(other == NULL);
    CHECK_STATUS(run, PROVISION_ERR_INTERNAL);
    CHECK(strstr(provision_last_error(), "internal error") != NULL);
    CHECK(config == NULL);
    CHECK_STATUS(provision_run(h, NULL), PROVISION_OK);
    CHECK(provision_config(h) != NULL);
    provision_free(h);
    provision_free(other);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD\n"
                        "(run it through tests/c/harness.py)\n", argv[0]);
        return 2;
    }
    const struct fixture f = {argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]};
    static const struct {
        const char *name;
        void (*run)(const struct fixture *);
    } cases[] = {
        {"fallback: a dead URL, then the live one serves", test_fallback},
        {"merge: server accounts and codecs, local head and audio kept", test_merge},
        {"store_local: without provisioned sections, mode 0600", test_store_local},
        {"server error: PROVISION_ERR_SERVER with the server's text", test_server_error},
        {"all dead: PROVISION_ERR_FETCH naming the URL", test_all_dead},
        {"NULL arguments: PROVISION_ERR_ARGUMENT, accessors NULL/0", test_null_arguments},
        {"missing provision file: PROVISION_ERR_NOT_FOUND, *out NULL", test_missing_file},
        {"last error is empty after a successful call", test_last_error_cleared},
        {"version: provision_version() is PROVISION_VERSION, the macros agree", test_version},
        {"status names: as in the header, PROVISION_UNKNOWN otherwise", test_status_names},
        {"outcome: a snapshot outlives later runs and the handle", test_outcome},
        {"timeouts and CA file: checked, then a run works", test_timeouts_and_ca_file},
        {"network settings: client cert, proxy, headers, variables checked; a run works", test_network_settings},
        {"a forced panic is PROVISION_ERR_INTERNAL and the process lives on", test_forced_panic},
    };
    int failed = 0;
    RUN_CASES(cases, &f, failed);
    return failed ? 1 : 0;
}
