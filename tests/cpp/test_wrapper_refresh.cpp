// The lifecycle through bindings/cpp/provision.hpp: the refresh worker with a
// std::function callback (changed, stop from inside, exceptions, moves and
// destruction while it runs), calls that defer, and the last-known-good
// cache (PROVISION_CACHED). It runs under valgrind in `make test`, which
// would see a function object destroyed while the worker may still call it.
//
// Run by tests/c/harness.py as
//   test_wrapper_refresh_cpp DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD
// and prints `ok - NAME` / `not ok - NAME` per case, like tests/c.
//
// Time matters here, so checks are on counts and orders that the schedule
// guarantees (a period is 1 s), never on how fast something happened; waits
// for callbacks have a generous timeout that only bounds a failing test.
#include <provision.hpp>  // first: the wrapper must stand on its own

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wrapper_support.hpp"

namespace {

using namespace std::chrono_literals;
using test::Case;
using test::contains;
using test::Fixture;
using test::load;
using test::status_thrown;

using Config = std::optional<std::string_view>;

constexpr auto PATIENCE = 120s;

// One callback, as the worker made it.
struct Heard {
    provision_status status;
    bool changed;
    std::optional<std::string> config;
    std::string message;  // provision::last_error() inside the callback
};

// Every callback of a worker; waits for them from the test's thread.
// Declared before the Provision whose callback uses it, so that it outlives
// the worker.
class Recorder {
public:
    // Records a callback; returns how many there were, this one included.
    size_t add(provision_status status, bool changed, Config config) {
        Heard heard{status, changed, config ? std::optional<std::string>(*config) : std::nullopt,
                    provision::last_error()};
        std::lock_guard<std::mutex> lock(mutex_);
        heard_.push_back(std::move(heard));
        more_.notify_all();
        return heard_.size();
    }

    provision::RefreshCallback callback() {
        return [this](provision_status status, bool changed, Config config) { add(status, changed, config); };
    }

    // Waits until there were `n` callbacks; false, reported, after PATIENCE.
    bool wait_for(Case& c, size_t n) {
        std::unique_lock<std::mutex> lock(mutex_);
        const bool reached = more_.wait_for(lock, PATIENCE, [&] { return heard_.size() >= n; });
        return c.check(reached, "waited for " + std::to_string(n) + " callbacks, got " + std::to_string(heard_.size()));
    }

    std::vector<Heard> heard() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return heard_;
    }

    size_t count() const { return heard().size(); }

private:
    mutable std::mutex mutex_;
    std::condition_variable more_;
    std::vector<Heard> heard_;
};

std::string local_config(int volume) {
    return "<?xml version=\"1.0\"?>\n<options>\n  <audio><volume>" + std::to_string(volume) +
           "</volume></audio>\n</options>\n";
}

void changed_on_change(Case& c, const Fixture& f) {
    const std::string local = f.dir + "/refresh-local.xml";
    test::write_file(local, local_config(1));
    Recorder r;
    provision::Provision p = load(f, "refresh-changed.conf", {f.live}, 1);
    p.start_refresh(local, [&r, &local](provision_status status, bool changed, Config config) {
        // The user changes a setting between the second and third refresh.
        if (r.add(status, changed, config) == 2) test::write_file(local, local_config(2));
    });
    if (!r.wait_for(c, 4)) return;
    p.stop_refresh();
    const std::vector<Heard> heard = r.heard();
    for (const Heard& h : heard) {
        c.check(h.status == PROVISION_OK && h.config && contains(*h.config, "server-user") && h.message.empty(),
                "each callback is OK with the merged config, got " + std::to_string(h.status) + " " + h.message);
    }
    std::string changed;
    for (size_t i = 0; i < 4; i++) changed += heard[i].changed ? '1' : '0';
    c.check(changed == "1010", "changed: the first, and the one after the local edit; got " + changed);
    c.check(contains(heard[1].config.value_or(""), "<volume>1</volume>") &&
                contains(heard[2].config.value_or(""), "<volume>2</volume>"),
            "the worker merges into the local config it was given, read at each attempt");
    c.check(p.config() == heard.back().config, "config() is the last merged config");
}

void stop_inside(Case& c, const Fixture& f) {
    Recorder r;
    auto kept = std::make_shared<int>(0);  // its use_count says whether the function still exists
    provision_status inside = PROVISION_ERR_INTERNAL;
    provision::Provision p = load(f, "refresh-inside.conf", {f.live}, 1);
    p.start_refresh([&r, &p, &inside, kept](provision_status status, bool changed, Config config) {
        inside = status_thrown([&] { p.stop_refresh(); });
        r.add(status, changed, config);
    });
    if (!r.wait_for(c, 1)) return;
    std::this_thread::sleep_for(1500ms);  // more than a period: a running worker would call again
    c.check(r.count() == 1, "no callback after the stop from inside: " + std::to_string(r.count()));
    c.check(inside == PROVISION_OK, "stop_refresh() inside the callback returned normally");
    c.check(kept.use_count() == 2, "the function is kept until the owner stops");
    p.stop_refresh();
    c.check(kept.use_count() == 1, "the owner's stop_refresh() destroyed the function");
}

void callback_errors(Case& c, const Fixture& f) {
    Recorder r;
    provision::Provision p = load(f, "refresh-throws.conf", {f.live}, 1);
    p.start_refresh([&r](provision_status status, bool changed, Config config) {
        r.add(status, changed, config);
        throw std::runtime_error("a host's callback failed");
    });
    auto refused = std::make_shared<int>(0);
    std::string message;
    c.check(status_thrown([&] { p.start_refresh([refused](provision_status, bool, Config) {}); }, &message) ==
                    PROVISION_ERR_ARGUMENT &&
                contains(message, "already"),
            "a second start_refresh throws ARGUMENT: " + message);
    c.check(refused.use_count() == 1, "the refused function is not kept");
    r.wait_for(c, 2);  // the worker went on after the callback threw
    p.stop_refresh();
    p.start_refresh(nullptr);  // a worker without a callback
    p.stop_refresh();

    provision::Provision once = load(f, "refresh-once.conf", {f.live});
    c.check(status_thrown([&] { once.start_refresh(nullptr); }, &message) == PROVISION_ERR_ARGUMENT &&
                contains(message, "refresh_rate"),
            "refresh_rate 0: start_refresh throws ARGUMENT: " + message);
}

void call_defers(Case& c, const Fixture& f) {
    Recorder r;
    provision::Provision p = load(f, "refresh-call.conf", {f.live}, 1);
    c.check(p.run() == PROVISION_OK, "run() before the call");
    p.set_call_active(true);
    c.check(status_thrown([&] { p.run(); }) == PROVISION_ERR_DEFERRED, "run() during a call throws DEFERRED");
    c.check(p.config().has_value(), "the last outcome stays");
    p.start_refresh(r.callback());
    std::this_thread::sleep_for(2500ms);  // two periods and a half during the call
    c.check(r.count() == 0, "no attempt during the call: " + std::to_string(r.count()) + " callbacks");
    p.set_call_active(false);
    if (r.wait_for(c, 1)) c.check(r.heard()[0].status == PROVISION_OK, "the attempt at hang-up succeeded");
    p.stop_refresh();
}

void refresh_now(Case& c, const Fixture& f) {
    Recorder r;
    provision::Provision p = load(f, "refresh-now.conf", {f.live}, 3600);
    c.check(status_thrown([&] { p.refresh_now(); }) == PROVISION_ERR_ARGUMENT, "no worker: ARGUMENT");
    p.start_refresh(r.callback());
    if (!r.wait_for(c, 1)) return;
    p.set_call_active(true);
    p.refresh_now(300ms);
    p.refresh_now();
    std::this_thread::sleep_for(1s);
    c.check(r.count() == 1, "no attempt during the call");
    p.set_call_active(false);
    if (r.wait_for(c, 2)) c.check(r.heard()[1].status == PROVISION_OK, "one attempt at hang-up, not in half an hour");
    std::this_thread::sleep_for(1s);  // more than the longest delay asked
    c.check(r.count() == 2, "the two asks made one attempt: " + std::to_string(r.count()) + " callbacks");
    p.stop_refresh();
    c.check(status_thrown([&] { p.refresh_now(); }) == PROVISION_ERR_ARGUMENT, "stopped: ARGUMENT");
}

void moves(Case& c, const Fixture& f) {
    Recorder heard_a, heard_t;
    auto kept_a = std::make_shared<int>(0), kept_t = std::make_shared<int>(0);
    {
        provision::Provision a = load(f, "refresh-move-a.conf", {f.live}, 1);
        a.start_refresh([&heard_a, kept_a](provision_status s, bool changed, Config config) { heard_a.add(s, changed, config); });
        if (!heard_a.wait_for(c, 1)) return;
        provision::Provision b = std::move(a);
        c.check(status_thrown([&] { a.stop_refresh(); }) == PROVISION_ERR_ARGUMENT, "the moved-from object has no handle");
        if (!heard_a.wait_for(c, 2)) return;  // the worker goes on under its new owner

        provision::Provision target = load(f, "refresh-move-t.conf", {f.live}, 1);
        target.start_refresh([&heard_t, kept_t](provision_status s, bool changed, Config config) { heard_t.add(s, changed, config); });
        if (!heard_t.wait_for(c, 1)) return;
        target = std::move(b);
        c.check(kept_t.use_count() == 1, "move assignment stopped the target's worker and destroyed its function");
        const size_t before = heard_t.count();
        if (!heard_a.wait_for(c, heard_a.count() + 1)) return;  // and under its third
        c.check(heard_t.count() == before, "no call to the target's old function after the assignment");
        c.check(kept_a.use_count() == 2, "the moved worker's function still exists");
    }  // destroyed while refreshing
    c.check(kept_a.use_count() == 1, "the destructor stopped the worker and destroyed the function");
}

// Counts destructions of the function object that happen while it runs.
struct Probe {
    struct State {
        std::atomic<bool> running{false};
        std::atomic<int> destroyed_running{0};
    };
    std::shared_ptr<State> state;

    explicit Probe(std::shared_ptr<State> s) : state(std::move(s)) {}
    Probe(const Probe&) = default;
    Probe(Probe&&) = default;
    ~Probe() {
        if (state && state->running) state->destroyed_running++;
    }
};

void destroy_during_callback(Case& c, const Fixture& f) {
    Recorder r;
    auto state = std::make_shared<Probe::State>();
    {
        provision::Provision p = load(f, "refresh-destroy.conf", {f.live}, 1);
        p.start_refresh([&r, probe = Probe(state)](provision_status s, bool changed, Config config) {
            probe.state->running = true;
            r.add(s, changed, config);
            std::this_thread::sleep_for(300ms);  // the owner destroys the object meanwhile
            probe.state->running = false;
        });
        r.wait_for(c, 1);
    }
    c.check(state->destroyed_running == 0, "the function was not destroyed while it ran");
    c.check(state.use_count() == 1, "it was destroyed once it had returned");
}

void cached(Case& c, const Fixture& f) {
    const std::string cache = f.dir + "/refresh-cache.xml";
    provision::Provision good = load(f, "cache-good.conf", {f.live});
    good.set_cache(cache);
    c.check(good.run() == PROVISION_OK, "a live server: PROVISION_OK");
    c.check(contains(test::read_file(cache), "server-user"), "the cache holds the provisioned accounts");
    const std::string saved = f.dir + "/cache-saved.conf";
    good.save(saved);
    provision::Provision again = provision::Provision::load(saved);
    again.run();
    c.check(again.source_url() == f.live, "a saved provision file serves like the original");

    Recorder r;
    provision::Provision down = load(f, "cache-down.conf", {f.dead}, 1);
    down.set_cache(cache);
    const provision_status status = down.run();
    const std::string why = provision::last_error();
    c.check(status == PROVISION_CACHED, "every URL down, a cache: run() returns PROVISION_CACHED, got " +
                                            std::to_string(status));
    c.check(contains(why, "last-known-good") && contains(why, f.dead), "last_error() says why each URL failed: " + why);
    c.check(contains(down.config().value_or(""), "server-user") && !down.source_url() && down.is_provisioned("accounts"),
            "the cached config is usable; no source URL");
    down.start_refresh(r.callback());
    if (r.wait_for(c, 1)) {
        const Heard h = r.heard()[0];
        c.check(h.status == PROVISION_CACHED && contains(h.config.value_or(""), "server-user") &&
                    contains(h.message, "last-known-good"),
                "the worker reports CACHED with the config and the reason: " + h.message);
    }
    down.stop_refresh();
    down.set_cache(std::nullopt);
    c.check(status_thrown([&] { down.run(); }) == PROVISION_ERR_FETCH, "without the cache: PROVISION_ERR_FETCH");
}

}  // namespace

int main(int argc, char** argv) {
    return test::run_cases<test::Guarded>(
        argc, argv,
        {
            {"c++ refresh: a 1 s period calls back; changed only when the merged config changed", {changed_on_change}},
            {"c++ refresh: stop_refresh from inside the callback; no further call", {stop_inside}},
            {"c++ refresh: a throwing callback does not stop the worker; ARGUMENT cases", {callback_errors}},
            {"c++ refresh: set_call_active defers run() and the worker until hang-up", {call_defers}},
            {"c++ refresh: refresh_now waits for hang-up and coalesces; ARGUMENT without a worker", {refresh_now}},
            {"c++ refresh: the handle moved while refreshing keeps working; assignment stops the target's",
             {moves}},
            {"c++ refresh: destroying the handle during a callback waits for it", {destroy_during_callback}},
            {"c++ refresh: run() returns PROVISION_CACHED; the worker reports it; set_cache(nullopt); save",
             {cached}},
        });
}
