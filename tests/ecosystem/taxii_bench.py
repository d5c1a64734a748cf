"""POST then page through N indicator objects with taxii2-client against a
TAXII 2.1 server; prints seconds for each half as JSON.

Usage: taxii_bench.py DISCOVERY_URL USER PASSWORD N
"""

import json
import sys
import time

import stix2
from taxii2client.v21 import Server, as_pages


def main() -> int:
    url, user, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    server = Server(url, user=user, password=password)
    collection = next(c for c in server.api_roots[0].collections if c.can_write)
    objects = [
        stix2.Indicator(pattern=f"[domain-name:value = 'bench-{i}.jobs-abroad.example']", pattern_type="stix",
                        object_marking_refs=[stix2.TLP_GREEN])
        for i in range(n)
    ]
    start = time.monotonic()
    for i in range(0, n, 500):
        status = collection.add_objects(stix2.Bundle(objects=objects[i:i + 500]).serialize())
        assert status.failure_count == 0, status.failures[:3]
    post = time.monotonic() - start
    start = time.monotonic()
    seen = 0
    for envelope in as_pages(collection.get_objects, per_request=1000):
        seen += sum(1 for o in envelope.get("objects", []) if o["type"] == "indicator")
    page = time.monotonic() - start
    assert seen >= n, (seen, n)
    print(json.dumps({"post_s": round(post, 2), "page_s": round(page, 2), "indicators": seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
