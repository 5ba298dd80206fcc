// bindings/cpp/provision.hpp against real loopback servers: fallback, merge,
// the exception type, move-only ownership and the logger (the refresh
// worker, calls and the cache: test_wrapper_refresh.cpp).
//
// Run by tests/c/harness.py as
//   test_wrapper_cpp DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD
// and prints `ok - NAME` / `not ok - NAME` per case, like tests/c.
#include <provision.hpp>  // first: the wrapper must stand on its own
#include <chrono>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "wrapper_support.hpp"

static_assert(!std::is_copy_constructible_v<provision::Provision>, "one owner per handle");
static_assert(!std::is_copy_assignable_v<provision::Provision>, "one owner per handle");
static_assert(std::is_nothrow_move_constructible_v<provision::Provision>, "movable into containers");
static_assert(std::is_nothrow_move_assignable_v<provision::Provision>, "movable into containers");
static_assert(std::is_base_of_v<std::runtime_error, provision::Error>, "caught as std::exception");
static_assert(std::is_copy_constructible_v<provision::Outcome>, "an Outcome is a value");
static_assert(std::is_nothrow_move_constructible_v<provision::Outcome>, "an Outcome is a value");

namespace {

using test::Case;
using test::contains;
using test::Fixture;
using test::load;
using test::status_thrown;

void fallback(Case& c, const Fixture& f) {
    provision::Provision p = load(f, "wrap-fallback.conf", {f.dead, f.live});
    std::vector<provision::Record> heard;
    p.set_logger([&heard](const provision::Record& a) { heard.push_back(a); });
    c.check(!p.config() && !p.source_url(), "no config and no source before a run");
    c.check(p.run() == PROVISION_OK, "run() returns PROVISION_OK");
    c.check(p.source_url() == f.live, "the live URL served, as written: " + p.source_url().value_or("(none)"));
    if (!c.check(heard.size() == 2, "two attempts logged, got " + std::to_string(heard.size()))) return;
    c.check(heard[0].url == f.dead + "configuration" && heard[0].status == PROVISION_ERR_FETCH,
            "first the dead URL, failed: " + heard[0].url + " " + heard[0].message);
    c.check(heard[1].url == f.live + "configuration" && heard[1].status == PROVISION_OK &&
                contains(heard[1].message, "ok"),
            "then the live URL, ok: " + heard[1].url + " " + heard[1].message);
    for (const auto& a : heard) {
        c.check(!contains(a.url + a.message, f.password), "no password in a log record");
    }
}

void merge(Case& c, const Fixture& f) {
    const std::string head = "<?xml version=\"1.0\"?>\n<options>\n";
    const std::string audio = "  <audio><volume>7</volume></audio>\n";
    const std::string local = f.dir + "/wrap-local.xml";
    test::write_file(local, head + audio + "  <accounts><account>wrap-local</account></accounts>\n</options>\n");
    provision::Provision p = load(f, "wrap-merge.conf", {f.live});
    p.run(local);
    const std::string merged = p.config().value_or("");
    c.check(merged.compare(0, head.size(), head) == 0 && contains(merged, audio), "the local head and audio are kept");
    c.check(contains(merged, "server-user") && !contains(merged, "wrap-local"), "the server's accounts replace the local ones");
    c.check(p.is_provisioned("accounts") && !p.is_provisioned("audio"), "accounts provisioned, audio not");
    p.store_local(local);
    c.check(test::read_file(local) == head + audio + "</options>\n", "the stored file is the local part");
    const std::string edited = head + "  <audio><volume>9</volume></audio>\n</options>\n";
    p.store_local(local, edited);
    c.check(test::read_file(local) == edited, "an edited config is stored as given");
}

void server_error(Case& c, const Fixture& f) {
    provision::Provision p = load(f, "wrap-error.conf", {f.dead, f.error});
    std::string message;
    const provision_status status = status_thrown([&] { p.run(); }, &message);
    c.check(status == PROVISION_ERR_SERVER, "PROVISION_ERR_SERVER, got " + std::to_string(status));
    c.check(message == "Wrong username or password", "what() is the server's text: " + message);
    c.check(!p.config(), "a failed run leaves no config");
}

void load_errors(Case& c, const Fixture& f) {
    c.check(status_thrown([&] { provision::Provision::load(f.dir + "/absent.conf"); }) == PROVISION_ERR_NOT_FOUND,
            "a missing provision file is PROVISION_ERR_NOT_FOUND");
    std::string message;
    const auto status = status_thrown([] { provision::Provision::from_xml("<provision><base_urls/></provision>"); }, &message);
    c.check(status == PROVISION_ERR_FORMAT && !message.empty(), "a bad provision file is PROVISION_ERR_FORMAT: " + message);
}

void network_settings(Case& c, const Fixture& f) {
    provision::Provision p = load(f, "wrap-net.conf", {f.live});
    using std::chrono::milliseconds;
    c.check(status_thrown([&] { p.set_timeouts(milliseconds(0), milliseconds(1000)); }) == PROVISION_ERR_ARGUMENT,
            "a zero timeout is PROVISION_ERR_ARGUMENT");
    c.check(status_thrown([&] { p.set_timeouts(milliseconds(2000), milliseconds(10000)); }) == PROVISION_OK,
            "timeouts are accepted");
    c.check(status_thrown([&] { p.set_ca_file(f.dir + "/absent.pem"); }) == PROVISION_ERR_IO,
            "an unreadable CA file is PROVISION_ERR_IO");
    c.check(status_thrown([&] { p.set_ca_file(std::nullopt); }) == PROVISION_OK, "nullopt goes back to the system's store");
    // Issue 12: each setter's refusals come back as statuses, and a run after them works.
    c.check(status_thrown([&] { p.set_client_cert(f.dir + "/absent.crt", f.dir + "/absent.key"); }) == PROVISION_ERR_IO,
            "an unreadable client certificate is PROVISION_ERR_IO");
    c.check(status_thrown([&] { p.clear_client_cert(); }) == PROVISION_OK, "no client certificate");
    c.check(status_thrown([&] { p.set_proxy("socks5://h:1"); }) == PROVISION_ERR_ARGUMENT, "only http proxies");
    c.check(status_thrown([&] { p.set_proxy(""); }) == PROVISION_OK, "\"\" is no proxy");
    c.check(status_thrown([&] { p.set_header("Authorization", "x"); }) == PROVISION_ERR_ARGUMENT,
            "a header the library owns is refused");
    c.check(status_thrown([&] { p.set_header("X-Device", "wrap\r\nX: y"); }) == PROVISION_ERR_ARGUMENT,
            "a header value with CR LF is refused");
    p.set_header("X-Device", "wrapper");
    p.set_header("X-Gone", "x");
    p.set_header("X-Gone", std::nullopt);
    c.check(status_thrown([&] { p.set_variable("password", "x"); }) == PROVISION_ERR_ARGUMENT,
            "[password] comes from the credentials");
    p.set_variable("version", "1.14");
    p.set_variable("version", std::nullopt);
    p.run();
    c.check(p.source_url() == f.live, "runs after the settings: " + p.source_url().value_or("(none)"));
}

void move_only(Case& c, const Fixture& f) {
    provision::Provision a = load(f, "wrap-move.conf", {f.live});
    int heard = 0;
    a.set_logger([&heard](const provision::Record&) { ++heard; });
    provision::Provision b = std::move(a);  // the logger moves along with the handle
    b.run();
    c.check(heard == 1, "the logger survives a move: " + std::to_string(heard) + " attempts");
    c.check(a.get() == nullptr && b.get() != nullptr, "the handle moved");
    c.check(status_thrown([&] { a.run(); }) == PROVISION_ERR_ARGUMENT, "a moved-from object throws ARGUMENT");
    a = std::move(b);
    c.check(a.source_url() == f.live, "move assignment keeps the outcome");
}

void logger_rules(Case& c, const Fixture& f) {
    provision::Provision p = load(f, "wrap-logger.conf", {f.dead, f.live});
    p.set_logger([](const provision::Record&) { throw std::runtime_error("a host's logger failed"); });
    c.check(status_thrown([&] { p.run(); }) == PROVISION_OK, "a throwing logger does not break the run");
    int heard = 0;
    p.set_logger([&heard](const provision::Record&) { ++heard; });
    p.set_logger(nullptr);
    p.run();
    c.check(heard == 0, "an empty logger removes it");
    c.check(status_thrown([&] { p.set_user_agent("bad\r\nagent"); }) == PROVISION_ERR_ARGUMENT,
            "a User-Agent with CR LF is refused");
    p.set_user_agent("Softphone/3.1");
    p.reset_user_agent();
    c.check(provision::version() == provision_version(), "version() is the library's");
}

void outcome(Case& c, const Fixture& f) {
    std::optional<provision::Outcome> kept;
    {
        provision::Provision p = load(f, "wrap-outcome.conf", {f.dead, f.live});
        c.check(!p.last_outcome(), "no outcome before a run");
        p.run();
        kept = p.last_outcome();
        if (!c.check(kept.has_value(), "an outcome after a run")) return;
        const provision::Outcome copy = *kept;
        c.check(copy.get() == kept->get(), "copies share one snapshot");
        p.run();
    }  // the Provision is gone: the outcome stays
    const std::string_view config = kept->config();
    c.check(contains(std::string(config), "server-user"), "the config outlives the Provision");
    c.check(kept->source_url() == std::optional<std::string_view>(f.live), "source_url()");
    const std::vector<std::string> sections = kept->provisioned();
    c.check(sections == std::vector<std::string>({"accounts", "codecs"}), "provisioned() in significant-section order");
    c.check(kept->is_provisioned("codecs") && !kept->is_provisioned("audio") && !kept->from_cache(),
            "is_provisioned(), from_cache()");
}

void errors_carry_status_and_message(Case& c, const Fixture& f) {
    provision::Provision p = load(f, "wrap-errors.conf", {f.live});
    try {
        p.store_local("");
        c.check(false, "an empty path throws");
    } catch (const provision::Error& e) {
        c.check(e.status() == PROVISION_ERR_ARGUMENT && contains(e.message(), "empty") &&
                    e.message() == e.what(),
                "an empty path: PROVISION_ERR_ARGUMENT with a message: " + e.message());
    }
    c.check(std::string(provision_status_name(PROVISION_ERR_ARGUMENT)) == "PROVISION_ERR_ARGUMENT", "status names");
}

}  // namespace

int main(int argc, char** argv) {
    return test::run_cases<test::Guarded>(
        argc, argv,
        {
            {"c++ wrapper: fallback from a dead URL to the live one, each attempt logged", {fallback}},
            {"c++ wrapper: merge keeps the local part, takes the server's accounts, stores", {merge}},
            {"c++ wrapper: a server's <error> is a provision::Error with its text", {server_error}},
            {"c++ wrapper: load failures carry NOT_FOUND and FORMAT", {load_errors}},
            {"c++ wrapper: timeouts and CA file pass through, errors carry their status", {network_settings}},
            {"c++ wrapper: move-only handle, moved-from objects throw", {move_only}},
            {"c++ wrapper: logger exceptions stay inside, loggers can be removed", {logger_rules}},
            {"c++ wrapper: an Outcome outlives later runs and the Provision", {outcome}},
            {"c++ wrapper: Error carries the status and the message", {errors_carry_status_and_message}},
        });
}
