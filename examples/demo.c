/*
 * libprovision demo: provision a softphone through the C ABI.
 *
 *   demo PROVISION_CONF LOCAL_CONFIG
 *
 * Loads the provision file (base URLs, credentials, significant sections),
 * asks the base URLs in turn for their `configuration`, merges the answer
 * into the local config and stores the local part (the config without the
 * provisioned sections) in LOCAL_CONFIG.stored. Then fetches the operator's
 * addressbook from the same server (docs/addressbook.md) and prints it.
 * `make demo` runs it against a server of its own (examples/demo.py).
 */
#define _POSIX_C_SOURCE 200809L

#include <provision.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The section names the provisioning guide lists. */
static const char *const SECTIONS[] = {
    "general", "sip_options", "iax_options", "rtp_options", "stun_options",
    "accounts", "audio", "transfer", "codecs", "restrictions",
    "provision", "diagnostics", "network", "fax",
};

/* Reports a failed call; read the last error before any other library call. */
static int failed(const char *call, int status)
{
    fprintf(stderr, "demo: %s failed: %s: %s\n", call, provision_status_name(status), provision_last_error());
    return 1;
}

/* Whether the config has an element named `name` (a text search: enough
 * for a demo, not an XML parser). */
static int has_element(const char *config, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(config, '<'); p != NULL; p = strchr(p + 1, '<')) {
        if (strncmp(p + 1, name, n) == 0 && strchr(">/ \t\r\n", p[1 + n]) != NULL)
            return 1;
    }
    return 0;
}

static void print_sections(const provision_t *h)
{
    const char *config = provision_config(h);
    printf("sections:\n");
    for (size_t i = 0; i < sizeof SECTIONS / sizeof SECTIONS[0]; i++) {
        if (provision_is_provisioned(h, SECTIONS[i]))
            printf("  %-12s provisioned from the server\n", SECTIONS[i]);
        else if (has_element(config, SECTIONS[i]))
            printf("  %-12s local\n", SECTIONS[i]);
    }
}

static int print_file(const char *path)
{
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        perror(path);
        return 0;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, stdout);
    int ok = !ferror(in);
    fclose(in);
    return ok;
}

/* Stores the local part in LOCAL.stored and prints it. */
static int store_local_part(const provision_t *h, const char *local)
{
    size_t size = strlen(local) + sizeof ".stored";
    char *stored = malloc(size);
    if (stored == NULL)
        return 0;
    snprintf(stored, size, "%s.stored", local);
    int status = provision_store_local(h, NULL, stored);
    int ok = status == PROVISION_OK;
    if (!ok)
        failed("provision_store_local", status);
    else {
        printf("\nlocal part, stored in %s\n(the provisioned sections are left out: "
               "the server sends them again next time):\n", stored);
        ok = print_file(stored);
    }
    free(stored);
    return ok;
}

/* The operator's addressbook, if the provision file uses it. */
static int print_addressbook(provision_t *h)
{
    provision_addressbook_t *book = NULL;
    int status = provision_addressbook_fetch(h, &book);
    if (status == PROVISION_ERR_RESTRICTED) {
        printf("\naddressbook: not used (%s)\n", provision_last_error());
        return 1;
    }
    if (status != PROVISION_OK)
        return !failed("provision_addressbook_fetch", status);
    printf("\naddressbook, %zu contacts (the snapshot is the phone's until freed):\n%s",
           provision_addressbook_count(book), provision_addressbook_xml(book));
    provision_addressbook_free(book);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROVISION_CONF LOCAL_CONFIG\n", argv[0]);
        return 2;
    }
    printf("libprovision %s\n", provision_version());

    provision_t *h = NULL;
    int status = provision_load(argv[1], &h);
    if (status != PROVISION_OK)
        return failed("provision_load", status);
    /* No provision_set_credentials: the file's user and password are used. */
    status = provision_run(h, argv[2]);
    if (status != PROVISION_OK) {
        failed("provision_run", status);
        provision_free(h);
        return 1;
    }

    printf("served by: %s\n\n", provision_source_url(h));
    print_sections(h);
    printf("\nmerged config (what the phone runs with):\n%s", provision_config(h));
    int ok = store_local_part(h, argv[2]);
    ok = print_addressbook(h) && ok;
    provision_free(h);
    return ok ? 0 : 1;
}
