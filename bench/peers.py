"""The merge as a Python user would write it, with xml.etree.ElementTree and
with lxml: parse both documents, put the answer's significant sections in
place of the local ones, serialize. Driven by the Rust bench (src/main.rs),
which generated the files and the expected merge in DIR.

    peers.py check DIR N...        outputs must equal the library's (C14N)
    peers.py time DIR ROUNDS N...  lines on stdout: `version NAME VALUE`,
                                   `sample MERGE N SECONDS`
    peers.py rss DIR N et|lxml     peak RSS (KiB) of one merge, on stdout
"""

import gc
import platform
import resource
import sys
import time
import xml.etree.ElementTree as ET

from lxml import etree

SIGNIFICANT = ["accounts", "codecs", "network"]
SAMPLE_TARGET = 0.040  # seconds, as in bench/src/timing.rs


def replace_sections(local, answer):
    """The answer's significant sections replace the local ones in place
    (the first local copy's place and trailing text); those the local root
    lacks are appended. The same rules as the library's merge."""
    for name in SIGNIFICANT:
        new = [c for c in answer if c.tag == name]
        if not new:
            continue
        old = [i for i, c in enumerate(local) if c.tag == name]
        if not old:
            for element in new:
                local.append(element)
            continue
        first = old[0]
        tail = local[first].tail
        for i in reversed(old[1:]):
            del local[i]
        local[first] = new[0]
        local[first].tail = tail
        for k, element in enumerate(new[1:], start=1):
            local.insert(first + k, element)


def et_merge(local_bytes, answer_bytes):
    # insert_comments keeps the comments inside the root, as a user who
    # cares about their config would ask; ElementTree drops those outside it.
    def parse(data):
        return ET.fromstring(data, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))

    local = parse(local_bytes)
    replace_sections(local, parse(answer_bytes))
    return ET.tostring(local, encoding="utf-8", xml_declaration=True)


def lxml_merge(local_bytes, answer_bytes):
    local = etree.fromstring(local_bytes)
    replace_sections(local, etree.fromstring(answer_bytes))
    return etree.tostring(local.getroottree(), encoding="UTF-8", xml_declaration=True)


MERGES = {"et": et_merge, "lxml": lxml_merge}


def load(folder, n):
    read = lambda name: open(f"{folder}/{name}_{n}.xml", "rb").read()
    return read("local"), read("answer"), read("expected")


def canonical(data, whole_document):
    """C14N 1.0 (libxml2), comments kept: of the whole document, or of the
    root element only (ElementTree cannot keep comments outside the root)."""
    root = etree.fromstring(data)
    return etree.tostring(root.getroottree() if whole_document else root, method="c14n", with_comments=True)


def check(folder, ns):
    for n in ns:
        local, answer, expected = load(folder, n)
        for name, merge in MERGES.items():
            got = merge(local, answer)
            whole = name == "lxml"
            if canonical(got, whole) != canonical(expected, whole):
                print(f"{name} and the library disagree on N={n}", file=sys.stderr)
                return 1
        print(f"N={n}: ElementTree and lxml outputs are C14N-equal to the library's", file=sys.stderr)
    return 0


# This thread's CPU time (user and kernel), as the Rust side times merges:
# time the machine gave to other processes is not counted.
clock = time.thread_time


def calibrate(run):
    start = clock()
    run()
    one = max(clock() - start, 1e-7)
    return max(1, int(SAMPLE_TARGET / one))


def sample(run, iters):
    start = clock()
    for _ in range(iters):
        run()
    return (clock() - start) / iters


def timings(folder, rounds, ns):
    for name, value in versions().items():
        print("version", name, value)
    for n in ns:
        local, answer, _ = load(folder, n)
        runs = {name: (lambda m=merge: m(local, answer)) for name, merge in MERGES.items()}
        iters = {name: calibrate(run) for name, run in runs.items()}
        for _ in range(rounds):
            for name, run in runs.items():
                print("sample", name, n, repr(sample(run, iters[name])), flush=True)
        del local, answer, runs
        gc.collect()
    return 0


def versions():
    return {
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
    }


def rss(folder, n, name):
    local, answer, _ = load(folder, n)
    out = MERGES[name](local, answer)
    assert out
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return 0


def main(argv):
    mode, folder, *rest = argv
    if mode == "check":
        return check(folder, [int(n) for n in rest])
    if mode == "time":
        return timings(folder, int(rest[0]), [int(n) for n in rest[1:]])
    if mode == "rss":
        return rss(folder, int(rest[0]), rest[1])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
