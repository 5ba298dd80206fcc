// What bindings/cpp/provision.hpp promises about threads, raced: config(),
// source_url(), is_provisioned() and last_outcome() against run(), the
// refresh worker, set_logger, set_credentials and set_call_active from other
// threads, with a server whose answer changes on every request; then the
// object destroyed while its refresh callback is under way. Built with
// -fsanitize=address,undefined in `make test` (any report fails it).
//
// Run by tests/c/race_harness.py as
//   test_race_cpp BASE_URL TMPDIR
// and prints `ok - NAME` / `not ok - NAME` per case, like tests/c.
#include <provision.hpp>  // first: the wrapper must stand on its own

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Case;

constexpr auto WINDOW = 1500ms;
constexpr auto DEADLINE = 120s;
constexpr int MIN_ROUNDS = 20;

// One server document, whole: user race-N, a pad of (N % 7) * 500
// characters (tests/c/race_harness.py), the codecs and the end.
bool whole(std::string_view config) {
    const std::string_view tag = "<username>race-";
    const std::size_t user = config.find(tag);
    if (user == std::string_view::npos || config.find("<username>", user + 1) != std::string_view::npos) return false;
    const long n = std::strtol(std::string(config.substr(user + tag.size(), 12)).c_str(), nullptr, 10);
    const std::size_t pad = config.find("<pad>", user), end = config.find("</pad>", user);
    return pad != std::string_view::npos && end != std::string_view::npos &&
           end - pad - 5 == static_cast<std::size_t>((n % 7) * 500) &&
           config.find("<name>opus</name>") != std::string_view::npos &&
           config.find("</options>") != std::string_view::npos;
}

struct Race {
    std::string base;
    Clock::time_point until = Clock::now() + WINDOW, deadline = Clock::now() + DEADLINE;
    std::atomic<int> bad{0}, callbacks{0}, records{0};
    std::atomic<bool> in_callback{false}, final_phase{false}, destroying{false};

    bool keep_going(int rounds) const {
        const auto now = Clock::now();
        return now < deadline && (now < until || rounds < MIN_ROUNDS);
    }
    void fail(const std::string& what) {
        if (bad++ < 5) std::cout << "#   " << what << std::endl;
    }
};

std::string provision_xml(const std::string& base) {
    return "<provision><base_urls><base_url>" + base +
           "/race/</base_url></base_urls><options><use_authentication>0</use_authentication>"
           "<refresh_rate>1</refresh_rate></options><significant_sections>accounts,codecs</significant_sections>"
           "</provision>";
}

void race(Case& c, const std::string& base) {
    Race r;
    r.base = base;
    const std::string url = base + "/race/";
    std::vector<int> rounds(6, 0);
    {
        provision::Provision p = provision::Provision::from_xml(provision_xml(base));
        provision_t* const h = p.get();
        auto logger = [&r](const provision::Record& record) {
            if (record.message.empty()) r.fail("a record without a message");
            r.records++;
        };
        p.set_logger(logger);
        p.start_refresh([&](provision_status status, bool, std::optional<std::string_view> config) {
            r.in_callback = true;
            if ((status == PROVISION_OK) != config.has_value() || (config && !whole(*config)))
                r.fail("a refresh callback with a torn config");
            // At the end the owner destroys the object meanwhile: it must wait
            // for this. The object is the owner's then; the C handle may
            // still be read here (provision_free waits for this callback).
            while (r.final_phase && !r.destroying && Clock::now() < r.deadline) std::this_thread::sleep_for(1ms);
            const char* again = provision_config(h);
            if (again != nullptr && !whole(std::string(again))) r.fail("a torn provision_config in the callback");
            r.callbacks++;
            r.in_callback = false;
        });

        std::vector<std::function<void(int&)>> bodies = {
            [&](int& n) {
                for (; r.keep_going(n); n++) {
                    const std::optional<std::string> config = p.config();
                    if (config && !whole(*config)) r.fail("a torn config()");
                    const std::optional<std::string> source = p.source_url();
                    if (source && *source != url) r.fail("a wrong source_url(): " + *source);
                    if (config && !p.is_provisioned("accounts")) r.fail("is_provisioned() went back");
                }
            },
            [&](int& n) {
                for (; r.keep_going(n); n++) {
                    const std::optional<provision::Outcome> o = p.last_outcome();
                    if (!o) continue;
                    const std::string_view config = o->config();
                    std::this_thread::sleep_for(1ms);
                    if (!whole(config) || o->source_url() != std::optional<std::string_view>(url) ||
                        o->provisioned() != std::vector<std::string>({"accounts", "codecs"}))
                        r.fail("a torn Outcome");
                }
            },
            [&](int& n) {
                for (; r.keep_going(n); n++) {
                    try {
                        p.run();
                    } catch (const provision::Error& e) {
                        if (e.status() != PROVISION_ERR_DEFERRED) r.fail(std::string("run() threw ") + e.what());
                    }
                    // Gaps longer than the period, for the worker to ask in.
                    if (n % 5 == 4) std::this_thread::sleep_for(1100ms);
                }
            },
            [&](int& n) {
                for (; r.keep_going(n); n++) {
                    p.set_logger(n % 3 ? provision::Logger(logger) : provision::Logger());
                    p.set_credentials("race-user", "race-password");
                    p.set_call_active(n % 2 == 1);
                    p.set_call_active(false);
                    std::this_thread::sleep_for(1ms);
                }
            },
            [&](int& n) {
                for (; r.keep_going(n); n++) {
                    const std::optional<std::string> config = p.config();
                    if (config && !whole(*config)) r.fail("a torn config()");
                }
            },
        };
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < bodies.size(); i++) threads.emplace_back(bodies[i], std::ref(rounds[i]));
        for (std::thread& t : threads) t.join();
        r.final_phase = true;

        const auto give_up = Clock::now() + DEADLINE;
        while (!r.in_callback && Clock::now() < give_up) std::this_thread::sleep_for(1ms);
        c.check(r.in_callback, "a refresh callback was under way at the end");
        r.destroying = true;
    }  // destroyed while the callback runs: it waits for it
    c.check(!r.in_callback, "the destructor waited for the callback");
    const int callbacks = r.callbacks;
    std::this_thread::sleep_for(1200ms);  // more than a period
    c.check(r.callbacks == callbacks, "no callback after the destructor");
    c.check(r.bad == 0, "no torn read, no wrong status");
    for (std::size_t i = 0; i < rounds.size() - 1; i++) {
        c.check(rounds[i] >= MIN_ROUNDS || Clock::now() >= r.deadline, "every thread did its rounds");
    }
    std::cout << "# c++ race: " << rounds[0] << "+" << rounds[4] << " reads, " << rounds[1] << " outcomes, "
              << rounds[2] << " runs, " << rounds[3] << " settings rounds, " << r.callbacks << " callbacks, "
              << r.records << " records" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " BASE_URL TMPDIR\n(run it through tests/c/race_harness.py)\n";
        return 2;
    }
    bool ok = true;
    {
        Case c("c++ race: readers and outcomes against runs, worker, logger, settings; destroyed in a callback");
        try {
            race(c, argv[1]);
        } catch (const provision::Error& e) {
            c.check(false, std::string("unexpected provision::Error: ") + e.what());
        }
        ok = c.ok();
    }
    return ok ? 0 : 1;
}
