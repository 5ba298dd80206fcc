// provision.hpp: a header-only C++17 wrapper of libprovision's C API.
//
//     #include <provision.hpp>
//
//     provision::provision_t p = provision::provision_t::load("/opt/softphone/provision.conf");
//     p.set_logger([](const provision::Attempt& a) { log(a.url, a.outcome, a.elapsed_ms); });
//     p.set_cache("/home/me/.softphone/provision-cache.xml");
//     if (p.run("/home/me/.softphone/Config.xml") == PROVISION_CACHED)  // throws provision::Error
//         warn(provision::last_error());                               // why every server failed
//     use_config(*p.config());
//     p.start_refresh("/home/me/.softphone/Config.xml",              // when refresh_rate > 0
//                     [](provision_status status, bool changed, std::optional<std::string_view> config) {
//                         if (changed) post_to_ui_thread(std::string(*config));  // worker thread
//                     });
//     p.set_call_active(true);                          // ... and false at hang-up
//     p.store_local("/home/me/.softphone/Config.xml");
//
// Build with `c++ -std=c++17 ... $(pkg-config --cflags --libs provision)`.
//
// - A failed call throws provision::Error, which carries the library's
//   status (status()) and message (what()); the message never holds a password.
// - run() returns PROVISION_CACHED instead of throwing when every URL failed
//   and the last-known-good cache (set_cache) served: the phone has a usable
//   config, as with PROVISION_OK (the Python binding returns Status.CACHED
//   for the same reason). provision::last_error(), read before any other
//   library call on that thread, says why each URL failed.
// - Provision owns one handle: move-only, released by its destructor. A
//   moved-from object holds no handle; calling it throws with
//   PROVISION_ERR_ARGUMENT.
// - Strings are copied into std::string at once, so they outlive the handle.
// - The logger and the refresh callback are kept on the heap, so moving the
//   object (also while the worker runs) does not move what the library calls.
//   The refresh callback is destroyed only once the worker can no longer call
//   it: after stop_refresh(), the destructor or a move assignment has stopped
//   the worker. An exception thrown by either function is caught and dropped
//   (none may cross the C library): the run or the worker goes on as if the
//   function had returned; catch inside it to report anything.
//
// Threads.
// - The refresh callback runs on the library's worker thread, one call at a
//   time. A logger runs on the thread of the attempt, the worker's included.
// - run, set_call_active, set_credentials, set_cache, set_timeouts,
//   set_ca_file, save, store_local,
//   set_user_agent, reset_user_agent, config, source_url and is_provisioned
//   only forward to the C handle, which is thread-safe: they may be called
//   from any thread, at the same time, and from inside the refresh callback.
// - start_refresh, stop_refresh and set_logger change what this object owns:
//   one at a time, from the thread that owns the object. set_logger also must
//   not overlap a run, the worker's included: set it before start_refresh (or
//   after stop_refresh). The exception: the refresh callback may call
//   stop_refresh() on its own object at any time; that returns at once, the
//   worker ends when the callback returns, and the function is destroyed by
//   the owner's next start_refresh, stop_refresh or the destructor.
// - Moves and destruction need the object to themselves: if the callback
//   uses the object, stop_refresh() first. A callback that touches only its
//   own captures needs nothing: the object may be moved while it refreshes.
//
// get() gives the C handle for anything not wrapped.
#ifndef PROVISION_HPP
#define PROVISION_HPP

#include <provision.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace provision {

/// A failed library call: the status it returned and its message.
class Error : public std::runtime_error {
public:
    Error(provision_status status, const std::string& message) : std::runtime_error(message), status_(status) {}

    /// PROVISION_ERR_SERVER means what() is the server's own text, to show the user.
    provision_status status() const noexcept { return status_; }

private:
    provision_status status_;
};

/// One base URL a run tried (see provision_set_logger in provision.h).
struct Attempt {
    std::string url;             ///< BASE + "configuration", without credentials
    provision_status status;     ///< PROVISION_OK, PROVISION_ERR_SERVER or PROVISION_ERR_FETCH
    std::string outcome;         ///< what happened, as a sentence, scrubbed of credentials
    std::uint64_t elapsed_ms;    ///< wall time spent on that URL
};

/// Receives each Attempt on the thread running Provision::run. Anything it
/// throws is caught and dropped: no exception may cross the C library.
using Logger = std::function<void(const Attempt&)>;

/// Hears each attempt of the refresh worker, on the worker's thread:
/// `status` is what run() would have given (PROVISION_OK, PROVISION_CACHED,
/// or a failure, which is not thrown); `changed` says whether the merged
/// config differs from the one before the attempt; `config` is the merged
/// config for PROVISION_OK and PROVISION_CACHED, else nullopt. `config`
/// points into the library and is valid only during the call: copy it
/// (std::string(*config)) to keep it. provision::last_error() gives the
/// attempt's message. Anything it throws is caught and dropped.
using RefreshCallback = std::function<void(provision_status status, bool changed, std::optional<std::string_view> config)>;

namespace detail {

/// Throws the Error for a failure status; the message is read at once,
/// before any other call can replace it.
inline void check(int status) {
    if (status != PROVISION_OK) {
        throw Error(static_cast<provision_status>(status), provision_last_error());
    }
}

/// check() for run(): PROVISION_CACHED is a usable outcome, returned.
inline provision_status check_run(int status) {
    if (status != PROVISION_CACHED) check(status);
    return static_cast<provision_status>(status);
}

/// A duration as the C API's unsigned milliseconds: a negative one becomes 0
/// (which the library refuses), a huge one the largest value.
inline unsigned to_ms(std::chrono::milliseconds d) {
    if (d.count() <= 0) return 0;
    const auto most = static_cast<std::chrono::milliseconds::rep>(std::numeric_limits<unsigned>::max());
    return static_cast<unsigned>(d.count() < most ? d.count() : most);
}

inline std::optional<std::string> copy(const char* text) {
    return text != nullptr ? std::optional<std::string>(text) : std::nullopt;
}

inline void log_trampoline(void* userdata, const provision_log_record_t* record) noexcept {
    // Notices reach the Logger once it takes records (issue 9, step 2).
    if (record->kind != PROVISION_LOG_ATTEMPT) return;
    try {
        const Attempt attempt{record->url != nullptr ? record->url : "", static_cast<provision_status>(record->status),
                              record->message, record->elapsed_ms};
        (*static_cast<const Logger*>(userdata))(attempt);
    } catch (...) {
        // A host's logger must not break provisioning, and must not unwind into C.
    }
}

/// The refresh callback this thread is running, if any, and where the
/// destructor or start_refresh, called from inside it, park the function
/// until it has returned.
struct InsideRefresh {
    const RefreshCallback* callback;
    std::unique_ptr<RefreshCallback> retired;
};

inline thread_local InsideRefresh* inside_refresh = nullptr;

inline void refresh_trampoline(void* userdata, int status, int changed, const char* config) noexcept {
    const auto* callback = static_cast<const RefreshCallback*>(userdata);
    InsideRefresh here{callback, nullptr};
    InsideRefresh* const outer = std::exchange(inside_refresh, &here);
    try {
        (*callback)(static_cast<provision_status>(status), changed != 0,
                    config != nullptr ? std::optional<std::string_view>(config) : std::nullopt);
    } catch (...) {
        // The worker must go on, and nothing may unwind into C.
    }
    inside_refresh = outer;
    // `here.retired`, if the callback released its own worker's function,
    // is destroyed now that it has returned; the worker calls it no more.
}

/// Destroys a refresh callback whose worker has stopped: at once, or, when
/// this thread is inside that very callback, once it has returned.
inline void release(std::unique_ptr<RefreshCallback> callback) noexcept {
    if (callback != nullptr && inside_refresh != nullptr && inside_refresh->callback == callback.get()) {
        inside_refresh->retired = std::move(callback);
    }
}

}  // namespace detail

/// The library's version, e.g. "0.1.0".
inline std::string version() { return provision_version(); }

/// The message of this thread's last library call that failed, "" when its
/// last call succeeded. Read it before any other call on the thread: right
/// after run() returned PROVISION_CACHED it says why each URL failed; inside
/// the refresh callback it is the attempt's message.
inline std::string last_error() { return provision_last_error(); }

/// One provision file, its credentials and the outcome of the last run.
class Provision {
public:
    /// Reads and validates a provision file. Throws Error: PROVISION_ERR_NOT_FOUND
    /// when the file does not exist (provisioning is off), PROVISION_ERR_FORMAT
    /// when it is malformed (the message names the file, line and element) or
    /// larger than 4 MiB.
    static Provision load(const std::string& provision_path) {
        ::provision_t* raw = nullptr;
        detail::check(provision_load(provision_path.c_str(), &raw));
        return Provision(raw);
    }

    /// As load, from the text of a provision file.
    static Provision from_xml(const std::string& provision_xml) {
        ::provision_t* raw = nullptr;
        detail::check(provision_load_xml(provision_xml.c_str(), &raw));
        return Provision(raw);
    }

    /// A running refresh worker moves along: it keeps calling the same
    /// function object, which stays where it is on the heap.
    Provision(Provision&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)),
          logger_(std::move(other.logger_)),
          refresh_(std::move(other.refresh_)) {}

    /// Releases this object's handle first (stopping its worker before its
    /// callback is destroyed), then takes over `other`'s.
    Provision& operator=(Provision&& other) noexcept {
        if (this != &other) {
            release();
            handle_ = std::exchange(other.handle_, nullptr);
            logger_ = std::move(other.logger_);
            refresh_ = std::move(other.refresh_);
        }
        return *this;
    }

    Provision(const Provision&) = delete;
    Provision& operator=(const Provision&) = delete;

    /// Stops the refresh worker, then frees the handle and the functions.
    ~Provision() { release(); }

    /// Credentials to send, overriding the file's; needed before run() when
    /// the file's user_input_authentication is 1.
    void set_credentials(const std::string& user, const std::string& password) {
        detail::check(provision_set_credentials(handle_, user.c_str(), password.c_str()));
    }

    /// Provisions without a local config. Returns PROVISION_OK, or
    /// PROVISION_CACHED when every URL failed and the cache (set_cache)
    /// served: the config is usable, source_url() is nullopt and
    /// last_error() says why each URL failed. Throws Error on failure
    /// (PROVISION_ERR_DEFERRED during a call, _CREDENTIALS, _SERVER,
    /// _FETCH...); the previous outcome stays.
    provision_status run() { return detail::check_run(provision_run(handle_, nullptr)); }

    /// As run(), merging into the local config at local_config_path (a
    /// missing file counts as empty). Nothing is written.
    provision_status run(const std::string& local_config_path) {
        return detail::check_run(provision_run(handle_, local_config_path.c_str()));
    }

    /// Whether any call is up. While one is, run() throws
    /// PROVISION_ERR_DEFERRED and the worker asks nothing; a refresh that
    /// fell due runs once right after set_call_active(false).
    void set_call_active(bool active) { detail::check(provision_set_call_active(handle_, active ? 1 : 0)); }

    /// Starts the refresh worker without a local config; see the overload.
    void start_refresh(RefreshCallback on_refresh) { start(nullptr, std::move(on_refresh)); }

    /// Starts the library's refresh worker: it provisions as
    /// run(local_config_path) every refresh_rate seconds after the last
    /// success, sooner after a failure (back-off from 1 s, doubling, capped
    /// at the period, with jitter), never during a call, and calls
    /// `on_refresh` on its own thread after each attempt (an empty function:
    /// none). The worker never writes the local config. Throws
    /// PROVISION_ERR_ARGUMENT when refresh_rate is 0 or a worker already runs.
    void start_refresh(const std::string& local_config_path, RefreshCallback on_refresh) {
        start(local_config_path.c_str(), std::move(on_refresh));
    }

    /// Stops the refresh worker and returns once it has stopped: at once
    /// during a period or a back-off, after the request under way otherwise.
    /// No callback comes after it returns, and the callback is destroyed.
    /// From inside the callback it returns at once and the worker ends when
    /// the callback returns; the function is then kept until the next
    /// start_refresh, stop_refresh or the destructor. Nothing happens when
    /// no worker runs.
    void stop_refresh() {
        detail::check(provision_stop_refresh(handle_));
        // On a worker thread, refresh_ is the owner's, which may be setting
        // it in start_refresh right now: left alone.
        if (detail::inside_refresh == nullptr) refresh_.reset();
    }

    /// Keeps a last-known-good cache at `cache_path` (nullopt: none): each
    /// successful run stores its provisioned sections there (atomically,
    /// mode 0600), and when every URL fails run() merges them and returns
    /// PROVISION_CACHED. A corrupt cache is ignored with a line on stderr.
    void set_cache(const std::optional<std::string>& cache_path) {
        detail::check(provision_set_cache(handle_, cache_path ? cache_path->c_str() : nullptr));
    }

    /// Timeouts of every later request: connecting (TCP and TLS handshake)
    /// and the whole request, body included. Defaults 5 s and 30 s; zero
    /// throws PROVISION_ERR_ARGUMENT.
    void set_timeouts(std::chrono::milliseconds connect, std::chrono::milliseconds total) {
        detail::check(provision_set_timeouts(handle_, detail::to_ms(connect), detail::to_ms(total)));
    }

    /// Trusts the certificates of the PEM file at `pem_path` (an operator's
    /// private CA) besides the system's store; nullopt goes back to the
    /// system's store alone. The file is read now; host names are always
    /// verified. Throws PROVISION_ERR_IO / _FORMAT for an unreadable file or
    /// one without a certificate, and then nothing changed.
    void set_ca_file(const std::optional<std::string>& pem_path) {
        detail::check(provision_set_ca_file(handle_, pem_path ? pem_path->c_str() : nullptr));
    }

    /// Writes the current settings, including what a server's <provision>
    /// section changed, as a provision file at `provision_path` (atomically,
    /// mode 0600 for a new file); credentials from set_credentials are not
    /// written.
    void save(const std::string& provision_path) const {
        detail::check(provision_save(handle_, provision_path.c_str()));
    }

    /// The merged config of the last successful run; nullopt before one.
    std::optional<std::string> config() const { return detail::copy(provision_config(handle_)); }

    /// The base URL, as written in the provision file, that served the last
    /// successful run; nullopt before one.
    std::optional<std::string> source_url() const { return detail::copy(provision_source_url(handle_)); }

    /// Whether the last successful run provisioned `section`.
    bool is_provisioned(const std::string& section) const {
        return provision_is_provisioned(handle_, section.c_str()) == 1;
    }

    /// Writes the merged config of the last run to `path` without the
    /// provisioned sections (atomically; a new file gets mode 0600).
    void store_local(const std::string& path) const {
        detail::check(provision_store_local(handle_, nullptr, path.c_str()));
    }

    /// As store_local(path), for a config the softphone edited.
    void store_local(const std::string& path, const std::string& config_xml) const {
        detail::check(provision_store_local(handle_, config_xml.c_str(), path.c_str()));
    }

    /// Sends each attempt of later runs to `logger`; an empty function removes it.
    void set_logger(Logger logger) {
        std::unique_ptr<Logger> next = logger ? std::make_unique<Logger>(std::move(logger)) : nullptr;
        detail::check(provision_set_logger(handle_, next ? detail::log_trampoline : nullptr, next.get()));
        logger_ = std::move(next);  // the old one is no longer reachable from the library
    }

    /// The User-Agent of later requests (printable ASCII).
    void set_user_agent(const std::string& user_agent) {
        detail::check(provision_set_user_agent(handle_, user_agent.c_str()));
    }

    /// Back to the default User-Agent, "libprovision/" + version().
    void reset_user_agent() { detail::check(provision_set_user_agent(handle_, nullptr)); }

    /// The C handle, still owned by this object, for calls not wrapped here.
    ::provision_t* get() const noexcept { return handle_; }

private:
    explicit Provision(::provision_t* handle) noexcept : handle_(handle) {}

    void start(const char* local_config_path, RefreshCallback on_refresh) {
        std::unique_ptr<RefreshCallback> next =
            on_refresh ? std::make_unique<RefreshCallback>(std::move(on_refresh)) : nullptr;
        // The worker may call `next` before this returns; kept in `next`
        // until then, and dropped unused if the library refused it.
        detail::check(provision_start_refresh(handle_, local_config_path,
                                              next ? detail::refresh_trampoline : nullptr, next.get()));
        // A previous worker has been joined, or this is its own callback.
        detail::release(std::exchange(refresh_, std::move(next)));
    }

    // provision_free stops the worker (joins it, or from inside the callback
    // lets it end when the callback returns) before the functions go.
    void release() noexcept {
        provision_free(std::exchange(handle_, nullptr));
        detail::release(std::move(refresh_));
        logger_.reset();
    }

    ::provision_t* handle_ = nullptr;
    // On the heap so that their addresses, given to the library, survive moves.
    std::unique_ptr<Logger> logger_;
    std::unique_ptr<RefreshCallback> refresh_;
};

}  // namespace provision

#endif  // PROVISION_HPP
