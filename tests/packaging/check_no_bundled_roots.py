#!/usr/bin/env python3
"""No CA list inside the library, for `make check-no-bundled-roots` and
`make check-deb`:

    python3 tests/packaging/check_no_bundled_roots.py LIBRARY

HTTPS trusts the system's store only (src/tls.rs); a compiled-in list
(webpki-roots, 150 Mozilla roots) would be a second store the administrator
cannot update. `strings` must find none of a few well-known roots' subject
names in LIBRARY, and must find `provision_version` (so the search works).
"""

import subprocess
import sys

ROOT_NAMES = ("ISRG Root X1", "DigiCert Global Root", "GlobalSign Root CA", "USERTrust RSA Certification Authority",
              "Starfield Services Root Certificate Authority")


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    text = subprocess.run(["strings", "-a", argv[1]], check=True, capture_output=True, text=True).stdout
    found = [name for name in ROOT_NAMES if name in text]
    ok = "provision_version" in text and not found
    print(f"{'ok' if ok else 'not ok'} - no bundled CA roots in {argv[1]}"
          + (f" (found: {', '.join(found)})" if found else "")
          + ("" if "provision_version" in text else " (strings found no provision_version: the search is broken)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
