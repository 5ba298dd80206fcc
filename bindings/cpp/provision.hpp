// provision.hpp: a header-only C++17 wrapper of libprovision's C API.
//
//     #include <provision.hpp>
//
//     provision::Provision p = provision::Provision::load("/opt/softphone/provision.conf");
//     p.set_logger([](const provision::Record& r) { log(r.url, r.message, r.elapsed_ms); });
//     p.set_cache("/home/me/.softphone/provision-cache.xml");
//     if (p.run("/home/me/.softphone/Config.xml") == PROVISION_CACHED)  // throws provision::Error
//         warn(provision::last_error());                               // why every server failed
//     provision::Outcome outcome = *p.last_outcome();  // immutable; any thread may read it
//     use_config(outcome.config());
//     p.start_refresh("/home/me/.softphone/Config.xml",              // when refresh_rate > 0
//                     [](provision_status status, bool changed, std::optional<std::string_view> config) {
//                         if (changed) post_to_ui_thread(std::string(*config));  // worker thread
//                     });
//     p.set_call_active(true);                          // ... and false at hang-up
//     p.store_local("/home/me/.softphone/Config.xml");
//
// Build with `c++ -std=c++17 ... $(pkg-config --cflags --libs provision)`.
// The C header (provision.h) is the reference for what each call does; this
// file says only what the wrapper adds.
//
// - A failed call throws provision::Error, which carries the library's
//   status (status()) and message (what()); the message never holds a password.
// - run() returns PROVISION_CACHED instead of throwing when every URL failed
//   and the last-known-good cache (set_cache) served: the phone has a usable
//   config, as with PROVISION_OK. provision::last_error(), read before any
//   other library call on that thread, says why each URL failed.
// - Provision owns one handle: move-only, released by its destructor. A
//   moved-from object holds no handle; calling it throws with
//   PROVISION_ERR_ARGUMENT (its readers give nothing).
// - Addressbook is an immutable snapshot of a fetched addressbook, shared
//   by copies in the same way (its xml() view lives while any copy does).
// - Outcome is an immutable snapshot of one run's result, shared by copies
//   (copying one copies no text). Its string_views stay valid as long as any
//   copy of it lives, whatever runs, refreshes or the Provision's
//   destruction do meanwhile. config() and source_url() of Provision copy
//   from such a snapshot into a std::string.
// - The logger and the refresh callback are kept on the heap, so moving the
//   object (also while the worker runs) does not move what the library calls.
//   An exception thrown by either is caught and dropped (none may cross the
//   C library): the run or the worker goes on as if the function had
//   returned; catch inside it to report anything.
//
// Threads.
// - The refresh callback runs on the library's worker thread, one call at a
//   time. The logger runs on the thread of the run (the worker's included)
//   or of the addressbook call that makes the record, one call at a time.
// - run, set_call_active, refresh_now, set_credentials, set_cache,
//   set_timeouts, set_ca_file, set_client_cert, clear_client_cert, set_proxy,
//   set_header, set_variable, save, store_local, set_user_agent, reset_user_agent,
//   set_logger, last_outcome, config, source_url, is_provisioned and the
//   addressbook_* calls may be called from any thread at the same time, and from inside the refresh
//   callback and the logger (run() from inside the logger throws: the
//   library refuses it with PROVISION_ERR_ARGUMENT, as it would wait for
//   itself). set_logger takes effect for the records made
//   after it returns; a logger it replaced may still be running on another
//   thread, and is destroyed when that call returns.
// - start_refresh and stop_refresh change the worker this object owns: one at
//   a time, from the thread that owns the object, never from inside the
//   logger. The exception: the refresh
//   callback may call stop_refresh() on its own object at any time; that
//   returns at once, the worker ends when the callback returns, and the
//   function is destroyed by the owner's next start_refresh, stop_refresh or
//   the destructor.
// - Moves and destruction need the object to themselves: no other call on it
//   may be under way (if the callback uses the object, stop_refresh() first).
//   A callback that touches only its own captures needs nothing: the object
//   may be moved while it refreshes.
//
// get() gives the C handle for anything not wrapped.
#ifndef PROVISION_HPP
#define PROVISION_HPP

#include <provision.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace provision {

/// A failed library call: the status it returned and its message.
class Error : public std::runtime_error {
public:
    Error(provision_status status, const std::string& message) : std::runtime_error(message), status_(status) {}

    /// PROVISION_ERR_SERVER means what() is the server's own text, to show the user.
    provision_status status() const noexcept { return status_; }

    /// The library's message (as what()).
    std::string message() const { return what(); }

private:
    provision_status status_;
};

/// One record for the host's log (see provision_log_record_t in provision.h).
struct Record {
    provision_log_kind kind;     ///< PROVISION_LOG_ATTEMPT (a base URL tried) or PROVISION_LOG_NOTICE
    std::string url;             ///< BASE + "configuration", without credentials; "" for a notice
    provision_status status;     ///< for an attempt: PROVISION_OK, _ERR_SERVER or _ERR_FETCH
    std::string message;         ///< what happened, as a sentence, scrubbed of credentials
    std::uint64_t elapsed_ms;    ///< wall time spent on that URL; 0 for a notice
};

/// Receives each Record on the thread running the run. Anything it throws
/// is caught and dropped: no exception may cross the C library.
using Logger = std::function<void(const Record&)>;

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

/// Where the library sends every record of a handle, for the handle's whole
/// life: set_logger swaps the function inside, so no function the library
/// may still be calling is ever destroyed under it.
class LogSlot {
public:
    void set(Logger logger) {
        std::shared_ptr<const Logger> next = logger ? std::make_shared<const Logger>(std::move(logger)) : nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        current_.swap(next);
        // The old one goes here, or with the last record still using it.
    }

    static void trampoline(void* userdata, const provision_log_record_t* record) noexcept {
        try {
            std::shared_ptr<const Logger> logger = static_cast<LogSlot*>(userdata)->get();
            if (logger == nullptr) return;
            const Record r{static_cast<provision_log_kind>(record->kind), record->url != nullptr ? record->url : "",
                           static_cast<provision_status>(record->status), record->message, record->elapsed_ms};
            (*logger)(r);
        } catch (...) {
            // A host's logger must not break provisioning, and must not unwind into C.
        }
    }

private:
    std::shared_ptr<const Logger> get() {
        std::lock_guard<std::mutex> lock(mutex_);
        return current_;
    }

    std::mutex mutex_;
    std::shared_ptr<const Logger> current_;
};

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

/// The library's version at run time, e.g. "1.0.0" (PROVISION_VERSION is
/// the header's).
inline std::string version() { return provision_version(); }

/// The message of this thread's last library call that failed, "" when its
/// last call succeeded. Read it before any other call on the thread: right
/// after run() returned PROVISION_CACHED it says why each URL failed; inside
/// the refresh callback it is the attempt's message.
inline std::string last_error() { return provision_last_error(); }

/// An immutable snapshot of one successful run's result (provision_outcome_t).
/// Copies share it; the views it gives stay valid while any copy lives.
class Outcome {
public:
    /// Takes ownership of `outcome` (not NULL), as provision_last_outcome gives it.
    explicit Outcome(provision_outcome_t* outcome) : outcome_(outcome, provision_outcome_free) {}

    /// The merged config.
    std::string_view config() const { return provision_outcome_config(outcome_.get()); }

    /// The base URL, as written in the provision file, that served it;
    /// nullopt when the last-known-good cache did (from_cache()).
    std::optional<std::string_view> source_url() const {
        const char* url = provision_outcome_source_url(outcome_.get());
        return url != nullptr ? std::optional<std::string_view>(url) : std::nullopt;
    }

    /// The significant sections it provisioned, in the provision file's order.
    std::vector<std::string> provisioned() const {
        std::vector<std::string> sections;
        const std::string_view all = provision_outcome_provisioned(outcome_.get());
        for (std::size_t at = 0; at < all.size();) {
            const std::size_t comma = std::min(all.find(',', at), all.size());
            sections.emplace_back(all.substr(at, comma - at));
            at = comma + 1;
        }
        return sections;
    }

    /// Whether it provisioned `section`.
    bool is_provisioned(const std::string& section) const {
        return provision_outcome_is_provisioned(outcome_.get(), section.c_str()) == 1;
    }

    /// Whether the last-known-good cache served it (the run gave PROVISION_CACHED).
    bool from_cache() const { return provision_outcome_from_cache(outcome_.get()) == 1; }

    /// The C outcome, still owned by this object (and its copies).
    const provision_outcome_t* get() const noexcept { return outcome_.get(); }

private:
    std::shared_ptr<provision_outcome_t> outcome_;
};

/// An immutable snapshot of an addressbook as the server sent it
/// (provision_addressbook_t, docs/addressbook.md): the <addressbook>
/// document and its number of contacts. Owns its snapshot and frees it with
/// the last copy (copies share it); the view xml() gives stays valid while
/// any copy lives, whatever the Provision does meanwhile, its destruction
/// included. Any thread may read it, also at the same time.
class Addressbook {
public:
    /// Takes ownership of `book` (not NULL), as provision_addressbook_fetch gives it.
    explicit Addressbook(provision_addressbook_t* book) : book_(book, provision_addressbook_free) {}

    /// The whole <addressbook> document (UTF-8 XML).
    std::string_view xml() const { return provision_addressbook_xml(book_.get()); }

    /// The number of <contact> elements.
    std::size_t size() const { return provision_addressbook_count(book_.get()); }

    /// The C snapshot, still owned by this object (and its copies).
    const provision_addressbook_t* get() const noexcept { return book_.get(); }

private:
    std::shared_ptr<provision_addressbook_t> book_;
};

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
          log_(std::move(other.log_)),
          refresh_(std::move(other.refresh_)) {}

    /// Releases this object's handle first (stopping its worker before its
    /// callback is destroyed), then takes over `other`'s.
    Provision& operator=(Provision&& other) noexcept {
        if (this != &other) {
            release();
            handle_ = std::exchange(other.handle_, nullptr);
            log_ = std::move(other.log_);
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
    /// run(local_config_path) about every refresh_rate seconds after the last
    /// success (drawn so that a fleet spreads: see provision_start_refresh),
    /// sooner after a failure (back-off from 1 s, doubling, capped
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

    /// Asks the running worker for an attempt after a uniformly random delay
    /// from 0 to `max_delay` (0 or negative: at once), so that a fleet told
    /// at once (SIP check-sync) spreads; see provision_refresh_now. Returns
    /// at once; throws PROVISION_ERR_ARGUMENT when no worker runs.
    void refresh_now(std::chrono::milliseconds max_delay = std::chrono::milliseconds(0)) {
        detail::check(provision_refresh_now(handle_, detail::to_ms(max_delay)));
    }

    /// Keeps a last-known-good cache at `cache_path` (nullopt: none): each
    /// successful run stores its provisioned sections there (atomically,
    /// mode 0600), and when every URL fails run() merges them and returns
    /// PROVISION_CACHED. A corrupt cache is ignored (the logger hears a
    /// PROVISION_LOG_NOTICE); the library never writes to stderr.
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

    /// Presents the certificate chain and private key of these PEM files
    /// (PKCS#8, RSA or EC key) to https servers that ask for a client
    /// certificate. The files are read now, once. Throws PROVISION_ERR_IO
    /// for an unreadable file, PROVISION_ERR_FORMAT when one holds no
    /// certificate or key or they do not match; then nothing changed.
    void set_client_cert(const std::string& cert_chain_pem_path, const std::string& key_pem_path) {
        detail::check(provision_set_client_cert(handle_, cert_chain_pem_path.c_str(), key_pem_path.c_str()));
    }

    /// Presents no client certificate any more.
    void clear_client_cert() { detail::check(provision_set_client_cert(handle_, nullptr, nullptr)); }

    /// The proxy of later requests: nullopt the environment's (HTTPS_PROXY,
    /// ALL_PROXY, NO_PROXY), "" none at all, else
    /// "http://[user:password@]host:port" (PROVISION_ERR_ARGUMENT otherwise).
    void set_proxy(const std::optional<std::string>& proxy_url) {
        detail::check(provision_set_proxy(handle_, proxy_url ? proxy_url->c_str() : nullptr));
    }

    /// Sends `name: value` with every later request to the base URLs' own
    /// origins (never after a redirect elsewhere, never logged); nullopt
    /// removes it. PROVISION_ERR_ARGUMENT for names the library owns
    /// (Authorization, Host, Proxy-*...), invalid names or values, and
    /// beyond 32 headers or 8 KiB.
    void set_header(const std::string& name, const std::optional<std::string>& value) {
        detail::check(provision_set_header(handle_, name.c_str(), value ? value->c_str() : nullptr));
    }

    /// The value of the [name] placeholder of URL templates (percent-encoded
    /// when filled in); nullopt removes it. [username] and [password] come
    /// from the credentials and are refused here.
    void set_variable(const std::string& name, const std::optional<std::string>& value) {
        detail::check(provision_set_variable(handle_, name.c_str(), value ? value->c_str() : nullptr));
    }

    /// Writes the current settings, including what a server's <provision>
    /// section changed, as a provision file at `provision_path` (atomically,
    /// always mode 0600); credentials from set_credentials are not
    /// written.
    void save(const std::string& provision_path) const {
        detail::check(provision_save(handle_, provision_path.c_str()));
    }

    /// A snapshot of the last successful run's outcome; nullopt before one.
    std::optional<Outcome> last_outcome() const {
        provision_outcome_t* outcome = provision_last_outcome(handle_);
        return outcome != nullptr ? std::optional<Outcome>(Outcome(outcome)) : std::nullopt;
    }

    /// The merged config of the last successful run; nullopt before one.
    std::optional<std::string> config() const {
        const std::optional<Outcome> last = last_outcome();
        return last ? std::optional<std::string>(last->config()) : std::nullopt;
    }

    /// The base URL, as written in the provision file, that served the last
    /// successful run; nullopt before one and when the cache served it.
    std::optional<std::string> source_url() const {
        const std::optional<Outcome> last = last_outcome();
        const std::optional<std::string_view> url = last ? last->source_url() : std::nullopt;
        return url ? std::optional<std::string>(*url) : std::nullopt;
    }

    /// Whether the last successful run provisioned `section`.
    bool is_provisioned(const std::string& section) const {
        return provision_is_provisioned(handle_, section.c_str()) == 1;
    }

    /// Writes the merged config of the last run to `path` without the
    /// provisioned sections (atomically; a new file gets mode 0600, an
    /// existing one keeps its owner's mode without group or other write).
    void store_local(const std::string& path) const {
        detail::check(provision_store_local(handle_, nullptr, path.c_str()));
    }

    /// As store_local(path), for a config the softphone edited.
    void store_local(const std::string& path, const std::string& config_xml) const {
        detail::check(provision_store_local(handle_, config_xml.c_str(), path.c_str()));
    }

    /// Sends each record (attempt or notice) made after this returns to
    /// `logger`, on the thread of the run; an empty function removes it.
    /// Any thread, any time, also during runs (see Threads above).
    void set_logger(Logger logger) {
        if (handle_ == nullptr) detail::check(PROVISION_ERR_ARGUMENT);
        log_->set(std::move(logger));
    }

    /// The User-Agent of later requests (printable ASCII).
    void set_user_agent(const std::string& user_agent) {
        detail::check(provision_set_user_agent(handle_, user_agent.c_str()));
    }

    /// Back to the default User-Agent, "libprovision/" + version().
    void reset_user_agent() { detail::check(provision_set_user_agent(handle_, nullptr)); }

    // The addressbook part (docs/addressbook.md). Each throws Error:
    // PROVISION_ERR_RESTRICTED, without a request, when the provision file
    // (its current settings) does not allow it; _SERVER with the server's
    // <error> text; _FETCH otherwise. Never deferred by a call; never
    // touches the configuration. Any thread, at the same time as runs.

    /// Fetches the addressbook from the base URLs in turn, like run().
    Addressbook addressbook_fetch() {
        provision_addressbook_t* book = nullptr;
        detail::check(provision_addressbook_fetch(handle_, &book));
        return Addressbook(book);
    }

    /// Adds a contact (`contact_xml`: one <contact> without <id>; malformed
    /// XML throws PROVISION_ERR_FORMAT before any request). Returns the
    /// stored contact, with its new <id>, as a one-contact Addressbook.
    /// Never sent twice: when the connection broke after sending, it throws
    /// PROVISION_ERR_FETCH saying the outcome is unknown.
    Addressbook addressbook_add(const std::string& contact_xml) {
        provision_addressbook_t* stored = nullptr;
        detail::check(provision_addressbook_add(handle_, contact_xml.c_str(), &stored));
        return Addressbook(stored);
    }

    /// Replaces contact `contact_id` with `contact_xml`.
    void addressbook_update(const std::string& contact_id, const std::string& contact_xml) {
        detail::check(provision_addressbook_update(handle_, contact_id.c_str(), contact_xml.c_str()));
    }

    /// Deletes contact `contact_id`.
    void addressbook_delete(const std::string& contact_id) {
        detail::check(provision_addressbook_delete(handle_, contact_id.c_str()));
    }

    /// The C handle, still owned by this object, for calls not wrapped here.
    ::provision_t* get() const noexcept { return handle_; }

private:
    /// Takes `handle` (not NULL) and routes its records through log_ for
    /// its whole life.
    explicit Provision(::provision_t* handle) : handle_(handle) {
        try {
            log_ = std::make_unique<detail::LogSlot>();
        } catch (...) {
            provision_free(handle_);
            throw;
        }
        provision_set_logger(handle_, detail::LogSlot::trampoline, log_.get());
    }

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
        log_.reset();
    }

    ::provision_t* handle_ = nullptr;
    // On the heap so that their addresses, given to the library, survive moves.
    std::unique_ptr<detail::LogSlot> log_;
    std::unique_ptr<RefreshCallback> refresh_;
};

}  // namespace provision

#endif  // PROVISION_HPP
