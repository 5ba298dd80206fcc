// A softphone's start-up with libprovision, as the provisioning guide
// describes it, through the C++ wrapper (bindings/cpp/provision.hpp):
//
//   1. look for provision.conf in the program's own folder; without one,
//      provisioning is off and the local config is used as it is;
//   2. exit with the message if the file is invalid;
//   3. ask for credentials on the terminal when user_input_authentication
//      is 1 (the library says so with PROVISION_ERR_CREDENTIALS);
//   4. provision: each base URL in turn, logged; show the server's own
//      error text if it refused;
//   5. use the merged config (here: say where each section came from);
//   6. on exit, store the local part: the config without the sections the
//      server owns.
//
//   softphone [LOCAL_CONFIG]      (default: Config.xml in the program's folder)
//
// Build: c++ -std=c++17 softphone.cpp $(pkg-config --cflags --libs provision)
#include <provision.hpp>

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

namespace {

// The section names the provisioning guide lists.
const char* const SECTIONS[] = {
    "general", "sip_options", "iax_options", "rtp_options", "stun_options", "accounts", "audio",
    "transfer", "codecs", "restrictions", "provision", "diagnostics", "network", "fax",
};

std::string program_folder(const char* argv0) {
    char path[4096];
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    std::string exe = n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string(argv0);
    const auto slash = exe.rfind('/');
    return slash == std::string::npos ? "." : exe.substr(0, slash);
}

// A line from the terminal (or whatever stdin is); echo off for secrets.
bool ask(const std::string& prompt, bool secret, std::string& answer) {
    std::cerr << prompt << std::flush;
    termios saved{};
    const bool hide = secret && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (hide) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    const bool got = static_cast<bool>(std::getline(std::cin, answer));
    if (hide) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::cerr << "\n";
    }
    return got;
}

// Provisions; true when the merged config is ready. Asks for credentials
// once if the provision file wants the user's.
bool provision_now(provision::Provision& p, const std::string& local_config) {
    for (bool asked = false;; asked = true) {
        try {
            p.run(local_config);
            return true;
        } catch (const provision::Error& e) {
            if (e.status() == PROVISION_ERR_CREDENTIALS && !asked) {
                std::string user, password;
                if (ask("Provisioning user: ", false, user) && ask("Password: ", true, password)) {
                    p.set_credentials(user, password);
                    continue;
                }
                std::cout << "provisioning: no credentials given\n";
            } else if (e.status() == PROVISION_ERR_SERVER) {
                std::cout << "provisioning: the server says: " << e.what() << "\n";
            } else {
                std::cout << "provisioning failed: " << e.what() << "\n";
            }
            return false;
        }
    }
}

std::string read_file(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
}

// "Using" the config: the softphone would register its accounts; this one
// says where each section it has came from, then shows the config.
void use_config(const std::string& config, const provision::Provision* p) {
    for (const char* section : SECTIONS) {
        const std::string open = std::string("<") + section;
        if (config.find(open + ">") == std::string::npos && config.find(open + " ") == std::string::npos &&
            config.find(open + "/") == std::string::npos)
            continue;
        const bool from_server = p != nullptr && p->is_provisioned(section);
        std::cout << "section " << section << ": " << (from_server ? "from the server" : "local") << "\n";
    }
    std::cout << "--- config ---\n" << config << (config.empty() || config.back() == '\n' ? "" : "\n")
              << "--- end ---\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2) {
        std::cerr << "usage: " << argv[0] << " [LOCAL_CONFIG]\n";
        return 2;
    }
    const std::string folder = program_folder(argv[0]);
    const std::string provision_file = folder + "/provision.conf";
    const std::string local_config = argc == 2 ? argv[1] : folder + "/Config.xml";

    std::optional<provision::Provision> p;
    try {
        p = provision::Provision::load(provision_file);
    } catch (const provision::Error& e) {
        if (e.status() != PROVISION_ERR_NOT_FOUND) {
            std::cerr << "softphone: " << e.what() << "\n";  // an invalid provision file: exit
            return 1;
        }
        std::cout << "provisioning: off (no " << provision_file << ")\n";
    }

    bool provisioned = false;
    if (p) {
        p->set_user_agent("ExampleSoftphone/1.0 libprovision/" + provision::version());
        p->set_logger([](const provision::Record& r) {
            if (r.kind == PROVISION_LOG_ATTEMPT)
                std::cout << "provisioning: " << r.url << ": " << r.message << " (" << r.elapsed_ms << " ms)\n";
            else
                std::cout << "provisioning: note: " << r.message << "\n";
        });
        provisioned = provision_now(*p, local_config);
        if (provisioned) std::cout << "provisioned from " << p->source_url().value_or("?") << "\n";
    }

    use_config(provisioned ? *p->config() : read_file(local_config), provisioned ? &*p : nullptr);

    // ... the softphone runs; on exit it keeps what is the user's own.
    if (provisioned) {
        try {
            p->store_local(local_config);
            std::cout << "stored the local part in " << local_config << "\n";
        } catch (const provision::Error& e) {
            std::cerr << "softphone: cannot store " << local_config << ": " << e.what() << "\n";
            return 1;
        }
    }
    return 0;
}
