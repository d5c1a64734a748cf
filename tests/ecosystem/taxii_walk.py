"""Walk a Kawan node's TAXII 2.1 server with software nobody on the Kawan team
wrote: taxii2-client for the protocol, stix2-validator and stix2 for the
objects. Prints a JSON summary; exits non-zero on any failure.

Usage: taxii_walk.py BASE_URL TOKEN
"""

import json
import sys

import stix2
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    # HTTP Basic with the Kawan token as the password, as TAXII clients do.
    server = Server(f"{base}/taxii2/", user="taxii", password=token)
    roots = server.api_roots
    assert roots, "no API roots"
    root = roots[0]
    assert "application/taxii+json;version=2.1" in root.versions, root.versions
    summary = {"collections": 0, "objects": 0, "types": {}, "invalid": [], "revoked": 0, "values": []}
    for collection in root.collections:
        summary["collections"] += 1
        assert collection.can_read
        seen_pages = 0
        for envelope in as_pages(collection.get_objects, per_request=3):
            seen_pages += 1
            for obj in envelope.get("objects", []):
                summary["objects"] += 1
                summary["types"][obj["type"]] = summary["types"].get(obj["type"], 0) + 1
                result = validate_instance(obj, ValidationOptions(strict=False))
                if not result.is_valid:
                    summary["invalid"].append({"id": obj["id"], "errors": [str(e) for e in result.errors]})
                stix2.parse(obj, allow_custom=True)
                if obj.get("revoked"):
                    summary["revoked"] += 1
                if obj["type"] == "indicator":
                    summary["values"].append(obj["pattern"])
        assert seen_pages >= 1
        manifest = collection.get_manifest()
        assert "objects" in manifest
        since = collection.get_objects(added_after="2000-01-01T00:00:00.000Z")
        assert since.get("objects"), "added_after in the past returns objects"
        future = collection.get_objects(added_after="2999-01-01T00:00:00.000Z")
        assert not future.get("objects"), "added_after in the future returns none"
    # Push one indicator and one object Kawan does not import.
    network = root.collections[0]
    assert network.can_write, "the operator token may write"
    bundle = stix2.Bundle(objects=[
        stix2.Indicator(pattern="[domain-name:value = 'pushed-by-taxii.example']", pattern_type="stix",
                        object_marking_refs=[stix2.TLP_GREEN]),
        stix2.Identity(name="Some organisation", identity_class="organization"),
    ])
    status = network.add_objects(bundle.serialize())
    summary["add"] = {"success": status.success_count, "failure": status.failure_count, "status": status.status}
    print(json.dumps(summary))
    return 0 if not summary["invalid"] else 1


if __name__ == "__main__":
    sys.exit(main())
