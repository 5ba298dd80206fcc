// The C++ wrapper's Addressbook against the reference server, run by
// tests/c/addressbook_harness.py (Fixture::error is its hang-up server:
// it reads a request and closes without answering). The reference server
// logs each request to DIR/server.jsonl before it answers.
#include <provision.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "wrapper_support.hpp"

namespace {

using test::Case;
using test::contains;
using test::Fixture;
using test::status_thrown;

const std::string CONTACT = "<contact><name>Bob Builder</name><number type=\"mobile\">+32 470</number></contact>";

provision::Provision load(const Fixture& f, const std::vector<std::string>& urls, const std::string& addressbook) {
    std::string text = test::provision_text(f, urls);
    text.insert(text.rfind("</provision>"), "  <addressbook>" + addressbook + "</addressbook>\n");
    return provision::Provision::from_xml(text);
}

const std::string USED = "<use_addressbook>1</use_addressbook><restrictions></restrictions>";

std::size_t requests(const Fixture& f) {
    const std::string log = test::read_file(f.dir + "/server.jsonl");
    return static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n'));
}

std::string first_id(std::string_view xml) {
    const std::size_t start = xml.find("<id>"), end = xml.find("</id>");
    return start == std::string_view::npos || end == std::string_view::npos ? ""
                                                                              : std::string(xml.substr(start + 4, end - start - 4));
}

void round_trip(Case& c, const Fixture& f) {
    std::optional<provision::Addressbook> kept;
    std::string id;
    {
        provision::Provision p = load(f, {f.dead, f.live}, USED);
        const std::size_t before = p.addressbook_fetch().size();
        const provision::Addressbook stored = p.addressbook_add(CONTACT);
        id = first_id(stored.xml());
        c.check(stored.size() == 1 && !id.empty(), "the stored contact has its id: " + std::string(stored.xml()));
        kept = p.addressbook_fetch();
        c.check(kept->size() == before + 1 && contains(std::string(kept->xml()), "Bob Builder"), "fetched after add");
        p.addressbook_update(id, "<contact><name>Robert Builder</name></contact>");
        c.check(contains(std::string(p.addressbook_fetch().xml()), "Robert Builder"), "fetched after update");
        p.addressbook_delete(id);
        c.check(p.addressbook_fetch().size() == before, "fetched after delete");
        std::string message;
        c.check(status_thrown([&] { p.addressbook_delete(id); }, &message) == PROVISION_ERR_SERVER,
                "deleting twice is the server's refusal: " + message);
    }
    // The snapshot outlives the Provision that fetched it, and copies share it.
    const provision::Addressbook copy = *kept;
    kept.reset();
    c.check(contains(std::string(copy.xml()), "Bob Builder") && copy.get() != nullptr, "a copy outlives its handle");
}

void restricted(Case& c, const Fixture& f) {
    const std::size_t before = requests(f);
    provision::Provision unused = load(f, {f.live}, "<use_addressbook>0</use_addressbook>");
    c.check(status_thrown([&] { unused.addressbook_fetch(); }) == PROVISION_ERR_RESTRICTED, "fetch: use_addressbook 0");
    for (const std::string name : {"add", "update", "delete"}) {
        provision::Provision p = load(f, {f.live}, "<use_addressbook>1</use_addressbook><restrictions>" + name + "</restrictions>");
        const provision_status status = status_thrown([&] {
            if (name == "add") p.addressbook_add(CONTACT);
            if (name == "update") p.addressbook_update("1", CONTACT);
            if (name == "delete") p.addressbook_delete("1");
        });
        c.check(status == PROVISION_ERR_RESTRICTED, name + " is restricted: " + std::to_string(status));
    }
    c.check(requests(f) == before, "no request was made");
}

void never_twice(Case& c, const Fixture& f) {
    provision::Provision p = load(f, {f.error, f.live}, USED);
    const std::size_t before = requests(f);
    std::string message;
    c.check(status_thrown([&] { p.addressbook_add(CONTACT); }, &message) == PROVISION_ERR_FETCH, "FETCH: " + message);
    c.check(contains(message, "unknown"), "the outcome is unknown: " + message);
    c.check(requests(f) == before, "the second URL got nothing");
    c.check(status_thrown([&] { p.addressbook_add("<contact><name>x</nam></contact>"); }, &message) == PROVISION_ERR_FORMAT,
            "malformed contact XML is PROVISION_ERR_FORMAT: " + message);
}

}  // namespace

int main(int argc, char** argv) {
    return test::run_cases<test::Guarded>(argc, argv, {
        {"wrapper addressbook: round trip, and a snapshot outlives its handle", {round_trip}},
        {"wrapper addressbook: restrictions throw RESTRICTED without a request", {restricted}},
        {"wrapper addressbook: a POST that may have arrived is not sent again", {never_twice}},
    });
}
