// What the tests of bindings/cpp/provision.hpp share on top of support.hpp:
// loading a provision file for the harness's URLs, the status an Error
// carries, and cases that fail (rather than end the program) on an
// unexpected provision::Error.
#ifndef PROVISION_TEST_WRAPPER_SUPPORT_HPP
#define PROVISION_TEST_WRAPPER_SUPPORT_HPP

#include <provision.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace test {

// A handle on a provision file `name` in the harness's folder, for `urls`.
inline provision::Provision load(const Fixture& f, const std::string& name, const std::vector<std::string>& urls,
                                 int refresh_rate = 0) {
    const std::string path = f.dir + "/" + name;
    write_file(path, provision_text(f, urls, refresh_rate));
    return provision::Provision::load(path);
}

// The status of the Error that `body` throws, or PROVISION_OK when it throws none.
template <typename Body>
provision_status status_thrown(Body body, std::string* message = nullptr) {
    try {
        body();
    } catch (const provision::Error& e) {
        if (message != nullptr) *message = e.what();
        return e.status();
    }
    return PROVISION_OK;
}

// A case whose unexpected provision::Error is a failed check.
struct Guarded {
    void (*body)(Case&, const Fixture&);

    void operator()(Case& c, const Fixture& f) const {
        try {
            body(c, f);
        } catch (const provision::Error& e) {
            c.check(false, "unexpected provision::Error " + std::to_string(e.status()) + ": " + e.what());
        }
    }
};

}  // namespace test

#endif  // PROVISION_TEST_WRAPPER_SUPPORT_HPP
