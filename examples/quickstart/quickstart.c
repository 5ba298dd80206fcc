/* The quick start in C (README.md): provision from the server that
 * `python3 -m http.server 8080` runs in this folder, and print the merged
 * config. Build it from the repository's top folder after `make lib`:
 *
 *   cc examples/quickstart/quickstart.c -Iinclude -Ltarget/debug \
 *      -Wl,-rpath,$PWD/target/debug -lprovision -o quickstart
 */
#include <provision.h>
#include <stdio.h>

int main(void)
{
    provision_t *p = NULL;
    int rc = provision_load("provision.conf", &p);
    if (rc != PROVISION_OK) {
        fprintf(stderr, "%s: %s\n", provision_status_name(rc), provision_last_error());
        return 1;
    }
    rc = provision_run(p, "Config.xml");
    if (rc == PROVISION_OK || rc == PROVISION_CACHED) {
        /* A snapshot: valid until freed, whatever other threads do. */
        provision_outcome_t *outcome = provision_last_outcome(p);
        const char *from = provision_outcome_source_url(outcome);
        printf("provisioned %s from %s\n%s", provision_outcome_provisioned(outcome),
               from ? from : "the cache", provision_outcome_config(outcome));
        provision_outcome_free(outcome);
    } else {
        fprintf(stderr, "%s: %s\n", provision_status_name(rc), provision_last_error());
    }
    provision_free(p);
    return rc == PROVISION_OK ? 0 : 1;
}
