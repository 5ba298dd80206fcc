// What the C++ test programs share: per-case reporting in the format
// tests/c/harness.py reads, the harness's arguments, and file helpers.
#ifndef PROVISION_TEST_SUPPORT_HPP
#define PROVISION_TEST_SUPPORT_HPP

#include <provision.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace test {

// The harness's arguments: DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD.
struct Fixture {
    std::string dead, live, error, dir, user, password;
};

// One case's verdict; `check` prints what failed as a `#` line.
class Case {
public:
    explicit Case(std::string name) : name_(std::move(name)) {}
    ~Case() { std::cout << (ok_ ? "ok" : "not ok") << " - " << name_ << std::endl; }
    Case(const Case&) = delete;
    Case& operator=(const Case&) = delete;

    bool check(bool ok, const std::string& what) {
        if (!ok) {
            ok_ = false;
            std::cout << "#   " << what << std::endl;
        }
        return ok;
    }
    bool status(int got, int want, const std::string& call) {
        return check(got == want, call + " gave " + std::to_string(got) + " (\"" +
                                      provision_last_error() + "\"), want " + std::to_string(want));
    }
    bool ok() const { return ok_; }

private:
    std::string name_;
    bool ok_ = true;
};

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
}

// A provision file for `urls`: basic authentication with the harness's
// credentials, accounts and codecs significant.
inline std::string provision_text(const Fixture& f, const std::vector<std::string>& urls) {
    std::string text = "<provision>\n  <base_urls>\n";
    for (const auto& url : urls) text += "    <base_url>" + url + "</base_url>\n";
    text += "  </base_urls>\n  <options>\n    <use_authentication>1</use_authentication>\n"
            "    <authentication_type>basic</authentication_type>\n"
            "    <user>" + f.user + "</user>\n    <password>" + f.password + "</password>\n"
            "  </options>\n  <significant_sections>accounts,codecs</significant_sections>\n</provision>\n";
    return text;
}

// Runs each (name, function) case and returns the process's exit status.
template <typename Test>
int run_cases(int argc, char** argv, const std::vector<std::pair<const char*, Test>>& tests) {
    if (argc != 7) {
        std::cerr << "usage: " << argv[0] << " DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD\n"
                  << "(run it through tests/c/harness.py)\n";
        return 2;
    }
    const Fixture f{argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]};
    int failed = 0;
    for (const auto& [name, run] : tests) {
        Case c(name);  // prints its line when it goes out of scope
        run(c, f);
        failed += c.ok() ? 0 : 1;
    }
    return failed ? 1 : 0;
}

}  // namespace test

#endif  // PROVISION_TEST_SUPPORT_HPP
