"""The quick start in Python (README.md): the same provisioning as
quickstart.c, through the ctypes binding. Run it from this folder:

    PYTHONPATH=../../bindings/python python3 quickstart.py
"""

import provision

try:
    with provision.Provision.load("provision.conf") as prov:
        prov.run("Config.xml")  # Status.OK, or Status.CACHED when a cache served
        outcome = prov.last_outcome()  # a snapshot, copied into Python
        print(f"provisioned {', '.join(outcome.provisioned)} from {outcome.source_url or 'the cache'}")
        print(outcome.config, end="")
except provision.ProvisionError as e:  # one subclass per status: ServerError, FetchError...
    print(f"{e.status.name}: {e.message}")
    raise SystemExit(1)
