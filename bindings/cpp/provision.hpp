// provision.hpp: a header-only C++17 wrapper of libprovision's C API.
//
//     #include <provision.hpp>
//
//     provision::Provision p = provision::Provision::load("/opt/softphone/provision.conf");
//     p.set_logger([](const provision::Attempt& a) { log(a.url, a.outcome, a.elapsed_ms); });
//     p.run("/home/me/.softphone/Config.xml");          // throws provision::Error
//     use_config(*p.config());
//     p.store_local("/home/me/.softphone/Config.xml");
//
// Build with `c++ -std=c++17 ... $(pkg-config --cflags --libs provision)`.
//
// - A failed call throws provision::Error, which carries the library's
//   status (status()) and message (what()); the message never holds a password.
// - Provision owns one handle: move-only, released by its destructor. A
//   moved-from object holds no handle; calling it throws with
//   PROVISION_ERR_ARGUMENT.
// - Strings are copied into std::string at once, so they outlive the handle.
// - Threads: like a standard container, const members may run concurrently;
//   the others (run, set_*, assignment) need the object to themselves.
//
// Not wrapped yet: the periodic refresh callback (its C API is not in this
// version of provision.h). get() gives the C handle for anything not wrapped.
#ifndef PROVISION_HPP
#define PROVISION_HPP

#include <provision.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

namespace detail {

/// Throws the Error for a failure status; the message is read at once,
/// before any other call can replace it.
inline void check(int status) {
    if (status != PROVISION_OK) {
        throw Error(static_cast<provision_status>(status), provision_last_error());
    }
}

inline std::optional<std::string> copy(const char* text) {
    return text != nullptr ? std::optional<std::string>(text) : std::nullopt;
}

inline void log_trampoline(const char* url, int status, const char* outcome, std::uint64_t elapsed_ms,
                           void* userdata) noexcept {
    try {
        const Attempt attempt{url, static_cast<provision_status>(status), outcome, elapsed_ms};
        (*static_cast<const Logger*>(userdata))(attempt);
    } catch (...) {
        // A host's logger must not break provisioning, and must not unwind into C.
    }
}

}  // namespace detail

/// The library's version, e.g. "0.1.0".
inline std::string version() { return provision_version(); }

/// One provision file, its credentials and the outcome of the last run.
class Provision {
public:
    /// Reads and validates a provision file. Throws Error: PROVISION_ERR_NOT_FOUND
    /// when the file does not exist (provisioning is off), PROVISION_ERR_FORMAT
    /// when it is malformed (the message names the file, line and element).
    static Provision load(const std::string& provision_path) {
        ::Provision* raw = nullptr;
        detail::check(provision_load(provision_path.c_str(), &raw));
        return Provision(raw);
    }

    /// As load, from the text of a provision file.
    static Provision from_xml(const std::string& provision_xml) {
        ::Provision* raw = nullptr;
        detail::check(provision_load_xml(provision_xml.c_str(), &raw));
        return Provision(raw);
    }

    Provision(Provision&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), logger_(std::move(other.logger_)) {}

    Provision& operator=(Provision&& other) noexcept {
        if (this != &other) {
            provision_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            logger_ = std::move(other.logger_);
        }
        return *this;
    }

    Provision(const Provision&) = delete;
    Provision& operator=(const Provision&) = delete;

    ~Provision() { provision_free(handle_); }

    /// Credentials to send, overriding the file's; needed before run() when
    /// the file's user_input_authentication is 1.
    void set_credentials(const std::string& user, const std::string& password) {
        detail::check(provision_set_credentials(handle_, user.c_str(), password.c_str()));
    }

    /// Provisions without a local config. Throws Error on failure
    /// (PROVISION_ERR_CREDENTIALS, _SERVER, _FETCH...); the previous outcome stays.
    void run() { detail::check(provision_run(handle_, nullptr)); }

    /// Provisions, merging into the local config at local_config_path (a
    /// missing file counts as empty). Nothing is written.
    void run(const std::string& local_config_path) {
        detail::check(provision_run(handle_, local_config_path.c_str()));
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
    ::Provision* get() const noexcept { return handle_; }

private:
    explicit Provision(::Provision* handle) noexcept : handle_(handle) {}

    ::Provision* handle_ = nullptr;
    // On the heap so that its address, given to the library, survives moves.
    std::unique_ptr<Logger> logger_;
};

}  // namespace provision

#endif  // PROVISION_HPP
