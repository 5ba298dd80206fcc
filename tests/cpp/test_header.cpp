// include/provision.h from C++17: the header compiles as C++ (extern "C",
// no C-only constructs) and the raw C API works with C++ ownership around it.
//
// Run by tests/c/harness.py as
//   test_header_cpp DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD
// and prints `ok - NAME` / `not ok - NAME` per case, like tests/c.
#include <provision.h>  // first: the header must stand on its own

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "support.hpp"

static_assert(PROVISION_OK == 0 && PROVISION_ERR_INTERNAL == 9, "status values are ABI");
static_assert(std::is_same_v<decltype(&provision_free), void (*)(provision_t*)>,
              "provision_free has C linkage and the documented type");

namespace {

using test::Case;
using test::Fixture;
using test::read_file;
using test::write_file;
using Handle = std::unique_ptr<provision_t, decltype(&provision_free)>;

bool contains(const char* text, const std::string& part) { return text != nullptr && test::contains(text, part); }

// Writes a provision file for `urls` (basic authentication, accounts and
// codecs significant) and loads it; the handle is null after a failure.
Handle load(Case& c, const Fixture& f, const std::string& name, const std::vector<std::string>& urls) {
    const std::string path = f.dir + "/" + name;
    write_file(path, test::provision_text(f, urls));
    provision_t* raw = nullptr;
    c.status(provision_load(path.c_str(), &raw), PROVISION_OK, "provision_load(" + path + ")");
    return Handle(raw, &provision_free);
}

void fallback(Case& c, const Fixture& f) {
    Handle h = load(c, f, "cpp-fallback.conf", {f.dead, f.live});
    if (!h || !c.status(provision_run(h.get(), nullptr), PROVISION_OK, "provision_run")) return;
    const char* source = provision_source_url(h.get());
    c.check(source != nullptr && source == f.live, "source URL is the live one as written");
    c.check(std::string(provision_last_error()).empty(), "last error is empty after success");
}

void merge(Case& c, const Fixture& f) {
    const std::string head = "<?xml version=\"1.0\"?>\n<!-- c++ -->\n<options>\n";
    const std::string audio = "  <audio><volume>3</volume></audio>\n";
    const std::string local = f.dir + "/cpp-local.xml";
    write_file(local, head + audio + "  <accounts><account>cpp-local</account></accounts>\n</options>\n");
    Handle h = load(c, f, "cpp-merge.conf", {f.live});
    if (!h || !c.status(provision_run(h.get(), local.c_str()), PROVISION_OK, "provision_run")) return;
    const char* config = provision_config(h.get());
    if (!c.check(config != nullptr, "a merged config after success")) return;
    const std::string merged = config;
    c.check(merged.compare(0, head.size(), head) == 0, "the local head is kept byte for byte");
    c.check(contains(merged.c_str(), audio), "the local audio is kept");
    c.check(contains(merged.c_str(), "server-user") && !contains(merged.c_str(), "cpp-local"),
            "the server's accounts replace the local ones");
    c.check(provision_is_provisioned(h.get(), "accounts") == 1 && provision_is_provisioned(h.get(), "audio") == 0,
            "accounts provisioned, audio not");
    const std::string stored = f.dir + "/cpp-stored.xml";
    if (c.status(provision_store_local(h.get(), nullptr, stored.c_str()), PROVISION_OK, "provision_store_local"))
        c.check(read_file(stored) == head + audio + "</options>\n", "the stored file is the local part");
}

}  // namespace

int main(int argc, char** argv) {
    return test::run_cases<void (*)(Case&, const Fixture&)>(
        argc, argv,
        {
            {"c++: fallback from a dead URL to the live one", fallback},
            {"c++: merge keeps the local head and audio, takes the server's accounts", merge},
        });
}
