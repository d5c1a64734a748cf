"""Load a Kawan MISP feed directory with PyMISP and print what it found.

Usage: misp_feed_check.py FEED_DIR
"""

import json
import os
import sys

from pymisp import MISPEvent


def main() -> int:
    feed = sys.argv[1]
    with open(os.path.join(feed, "manifest.json")) as f:
        manifest = json.load(f)
    out = {"events": 0, "attributes": [], "hashes": 0}
    for uuid in manifest:
        event = MISPEvent()
        event.load_file(os.path.join(feed, f"{uuid}.json"))
        assert str(event.uuid) == uuid, (event.uuid, uuid)
        out["events"] += 1
        for a in event.attributes:
            out["attributes"].append({"type": a.type, "value": a.value, "tags": sorted(t.name for t in a.tags), "comment": a.comment})
    with open(os.path.join(feed, "hashes.csv")) as f:
        out["hashes"] = sum(1 for line in f if line.strip())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
