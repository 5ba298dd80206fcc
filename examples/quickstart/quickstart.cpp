// The quick start in C++ (README.md): the same provisioning as quickstart.c,
// through the header-only wrapper bindings/cpp/provision.hpp. Build it from
// this folder after `make lib`:
//
//   c++ -std=c++17 quickstart.cpp -I../../include -I../../bindings/cpp \
//       -L../../target/debug -Wl,-rpath,$PWD/../../target/debug -lprovision -o /tmp/quickstart-cpp
#include <provision.hpp>

#include <iostream>

int main() {
    try {
        provision::Provision p = provision::Provision::load("provision.conf");
        p.run("Config.xml");  // throws provision::Error; returns PROVISION_CACHED when a cache served
        provision::Outcome outcome = *p.last_outcome();  // a snapshot: safe from any thread
        std::cout << "provisioned " << outcome.provisioned().size() << " sections from "
                  << outcome.source_url().value_or("the cache") << "\n"
                  << outcome.config();
    } catch (const provision::Error& e) {
        std::cerr << provision_status_name(e.status()) << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
