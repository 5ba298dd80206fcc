/*
 * The addressbook's C ABI, end to end against the reference server.
 *
 * Run by tests/c/addressbook_harness.py as
 *   test_addressbook DEAD_URL LIVE_URL HANGUP_URL TMPDIR USER PASSWORD
 * The live server logs each request to TMPDIR/server.jsonl before it answers
 * and the hang-up server to TMPDIR/hangup.log, so counting their lines
 * around a call proves whether it made a request. Everything allocated is
 * freed: it runs under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <provision.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    const char *dead, *live, *hangup, *dir, *user, *password;
};

enum { TEXT_MAX = 4096 };

static const char CONTACT[] =
    "<contact>\n  <name>Bob Builder</name>\n  <number type=\"work\">+32 2 555 01 01</number>\n</contact>";

/* The number of lines of dir/name: requests a server logged. */
static int logged(const struct fixture *f, const char *name)
{
    char path[TEXT_MAX];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return 0;
    int lines = 0;
    for (int c; (c = fgetc(in)) != EOF;)
        lines += c == '\n';
    fclose(in);
    return lines;
}

#define REQUESTS(f) logged((f), "server.jsonl")

/* A handle on a provision file for `url1` (and `url2` unless NULL), basic
 * authentication, with the given <addressbook> settings. */
static provision_t *load(const struct fixture *f, const char *url1, const char *url2, int use,
                         const char *restrictions)
{
    char text[TEXT_MAX];
    snprintf(text, sizeof text,
             "<provision><base_urls><base_url>%s</base_url>%s%s%s</base_urls>"
             "<options><use_authentication>1</use_authentication><authentication_type>basic</authentication_type>"
             "<user>%s</user><password>%s</password></options>"
             "<significant_sections>accounts</significant_sections>"
             "<addressbook><use_addressbook>%d</use_addressbook><restrictions>%s</restrictions></addressbook>"
             "</provision>",
             url1, url2 ? "<base_url>" : "", url2 ? url2 : "", url2 ? "</base_url>" : "", f->user, f->password,
             use, restrictions);
    provision_t *p = NULL;
    CHECK_STATUS(provision_load_xml(text, &p), PROVISION_OK);
    return p;
}

/* The text of the first <id> of a document, in buf. */
static const char *first_id(const char *xml, char *buf, size_t size)
{
    const char *start = xml ? strstr(xml, "<id>") : NULL;
    const char *end = start ? strstr(start, "</id>") : NULL;
    buf[0] = '\0';
    if (start && end && (size_t)(end - start - 4) < size) {
        memcpy(buf, start + 4, (size_t)(end - start - 4));
        buf[end - start - 4] = '\0';
    }
    return buf;
}

static void round_trip_after_a_dead_url(const struct fixture *f)
{
    provision_t *p = load(f, f->dead, f->live, 1, "");
    provision_addressbook_t *book = NULL, *stored = NULL;
    CHECK_STATUS(provision_addressbook_fetch(p, &book), PROVISION_OK);
    CHECK(provision_addressbook_count(book) == 0);
    CHECK(strstr(provision_addressbook_xml(book), "<addressbook") != NULL);
    provision_addressbook_free(book);

    CHECK_STATUS(provision_addressbook_add(p, CONTACT, &stored), PROVISION_OK);
    CHECK(provision_addressbook_count(stored) == 1);
    char id[64];
    first_id(provision_addressbook_xml(stored), id, sizeof id);
    CHECK(id[0] != '\0');
    CHECK(strstr(provision_addressbook_xml(stored), "<name>Bob Builder</name>") != NULL);
    provision_addressbook_free(stored);
    CHECK_STATUS(provision_addressbook_add(p, "<contact><name>Carol</name></contact>", NULL), PROVISION_OK);

    CHECK_STATUS(provision_addressbook_fetch(p, &book), PROVISION_OK);
    CHECK(provision_addressbook_count(book) == 2);
    provision_addressbook_free(book);

    CHECK_STATUS(provision_addressbook_update(p, id, "<contact><name>Robert</name></contact>"), PROVISION_OK);
    CHECK_STATUS(provision_addressbook_delete(p, id), PROVISION_OK);
    CHECK_STATUS(provision_addressbook_fetch(p, &book), PROVISION_OK);
    CHECK(provision_addressbook_count(book) == 1);
    CHECK(strstr(provision_addressbook_xml(book), "Robert") == NULL);
    CHECK(strstr(provision_addressbook_xml(book), "<name>Carol</name>") != NULL);
    provision_addressbook_free(book);

    CHECK_STATUS(provision_addressbook_delete(p, id), PROVISION_ERR_SERVER);
    CHECK(strstr(provision_last_error(), "no contact") != NULL);
    CHECK(provision_last_outcome(p) == NULL); /* the configuration part was not touched */
    provision_free(p);
}

static void restrictions_make_no_request(const struct fixture *f)
{
    const char *names[] = {"add", "update", "delete"};
    for (int i = 0; i < 3; i++) {
        provision_t *p = load(f, f->live, NULL, 1, names[i]);
        int before = REQUESTS(f);
        provision_addressbook_t *stored = (provision_addressbook_t *)1;
        int status = i == 0   ? provision_addressbook_add(p, CONTACT, &stored)
                     : i == 1 ? provision_addressbook_update(p, "1", CONTACT)
                              : provision_addressbook_delete(p, "1");
        CHECK_STATUS(status, PROVISION_ERR_RESTRICTED);
        CHECK(strstr(provision_last_error(), names[i]) != NULL);
        CHECK(i != 0 || stored == NULL);
        CHECK(REQUESTS(f) == before);
        provision_free(p);
    }

    provision_t *p = load(f, f->live, NULL, 0, "");
    int before = REQUESTS(f);
    provision_addressbook_t *book = (provision_addressbook_t *)1;
    CHECK_STATUS(provision_addressbook_fetch(p, &book), PROVISION_ERR_RESTRICTED);
    CHECK(book == NULL);
    CHECK_STATUS(provision_addressbook_add(p, CONTACT, NULL), PROVISION_ERR_RESTRICTED);
    CHECK_STATUS(provision_addressbook_update(p, "1", CONTACT), PROVISION_ERR_RESTRICTED);
    CHECK_STATUS(provision_addressbook_delete(p, "1"), PROVISION_ERR_RESTRICTED);
    CHECK_TEXT(provision_status_name(PROVISION_ERR_RESTRICTED), "PROVISION_ERR_RESTRICTED");
    CHECK(REQUESTS(f) == before);
    provision_free(p);
}

static void a_post_that_may_have_arrived_is_not_sent_again(const struct fixture *f)
{
    provision_t *p = load(f, f->hangup, f->live, 1, "");
    int before = REQUESTS(f), hung_up = logged(f, "hangup.log");
    CHECK_STATUS(provision_addressbook_add(p, CONTACT, NULL), PROVISION_ERR_FETCH);
    CHECK(strstr(provision_last_error(), "unknown") != NULL);
    CHECK(logged(f, "hangup.log") == hung_up + 1);
    CHECK(REQUESTS(f) == before);
    provision_free(p);
}

static void malformed_contacts_and_ids_make_no_request(const struct fixture *f)
{
    provision_t *p = load(f, f->live, NULL, 1, "");
    int before = REQUESTS(f);
    CHECK_STATUS(provision_addressbook_add(p, "<contact>\n  <name>Bob</nam>\n</contact>", NULL), PROVISION_ERR_FORMAT);
    CHECK(strstr(provision_last_error(), "line 2, column") != NULL);
    CHECK_STATUS(provision_addressbook_add(p, "<contact><id>9</id><name>Bob</name></contact>", NULL),
                 PROVISION_ERR_FORMAT);
    CHECK_STATUS(provision_addressbook_update(p, "", CONTACT), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_addressbook_delete(p, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_addressbook_add(p, NULL, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_addressbook_fetch(p, NULL), PROVISION_ERR_ARGUMENT);
    CHECK_STATUS(provision_addressbook_fetch(NULL, NULL), PROVISION_ERR_ARGUMENT);
    CHECK(provision_addressbook_xml(NULL) == NULL && provision_addressbook_count(NULL) == 0);
    provision_addressbook_free(NULL);
    CHECK(REQUESTS(f) == before);
    provision_free(p);
}

/* Threads reading one snapshot while the handle that made it fetches
 * again from other threads and is freed: the snapshot never changes. */
struct reader {
    const provision_addressbook_t *book;
    provision_t *p;
    const char *want;
    int ok;
};

static void *read_and_fetch(void *arg)
{
    struct reader *r = arg;
    r->ok = 1;
    for (int i = 0; i < 20; i++) {
        r->ok &= strcmp(provision_addressbook_xml(r->book), r->want) == 0;
        r->ok &= provision_addressbook_count(r->book) == 1;
        provision_addressbook_t *mine = NULL;
        r->ok &= provision_addressbook_fetch(r->p, &mine) == PROVISION_OK;
        r->ok &= provision_addressbook_count(mine) >= 1;
        provision_addressbook_free(mine);
    }
    return NULL;
}

static void a_snapshot_outlives_its_handle_and_is_shared_by_threads(const struct fixture *f)
{
    provision_t *p = load(f, f->live, NULL, 1, "");
    provision_addressbook_t *book = NULL;
    CHECK_STATUS(provision_addressbook_fetch(p, &book), PROVISION_OK);
    const char *xml = book ? provision_addressbook_xml(book) : "";
    char *want = strdup(xml);
    struct reader readers[3];
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) {
        readers[i] = (struct reader){book, p, want, 0};
        CHECK(pthread_create(&threads[i], NULL, read_and_fetch, &readers[i]) == 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        CHECK(readers[i].ok);
    }
    provision_free(p);
    CHECK_TEXT(provision_addressbook_xml(book), want);
    CHECK(provision_addressbook_xml(book) == xml);
    provision_addressbook_free(book);
    free(want);
}

struct addressbook_case {
    const char *name;
    void (*run)(const struct fixture *);
};

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s DEAD_URL LIVE_URL HANGUP_URL TMPDIR USER PASSWORD\n", argv[0]);
        return 2;
    }
    const struct fixture f = {argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]};
    const struct addressbook_case cases[] = {
        {"addressbook: fetch, add, update, delete after a dead URL", round_trip_after_a_dead_url},
        {"addressbook: each restriction and use_addressbook 0 make no request", restrictions_make_no_request},
        {"addressbook: a POST that may have arrived is not sent to the next URL",
         a_post_that_may_have_arrived_is_not_sent_again},
        {"addressbook: malformed contacts and ids make no request", malformed_contacts_and_ids_make_no_request},
        {"addressbook: a snapshot outlives its handle and is shared by threads",
         a_snapshot_outlives_its_handle_and_is_shared_by_threads},
    };
    int failed = 0;
    RUN_CASES(cases, &f, failed);
    return failed ? 1 : 0;
}
