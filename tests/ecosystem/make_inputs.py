"""Write a STIX 2.1 bundle made by the `stix2` library and a MISP event made by
PyMISP, as an agency's existing tools would produce them. Fictional values.

Usage: make_inputs.py OUT_DIR
"""

import os
import sys

import stix2
from pymisp import MISPEvent


def main() -> int:
    out = sys.argv[1]
    indicators = [
        stix2.Indicator(pattern="[domain-name:value = 'stix-jobs.example']", pattern_type="stix",
                        object_marking_refs=[stix2.TLP_GREEN], labels=["job-ad"]),
        stix2.Indicator(pattern="[url:value = 'https://stix-jobs.example/apply']", pattern_type="stix",
                        object_marking_refs=[stix2.TLP_WHITE]),
        stix2.Indicator(pattern="[ipv4-addr:value = '203.0.113.77']", pattern_type="stix",
                        object_marking_refs=[stix2.TLP_GREEN]),
    ]
    with open(os.path.join(out, "bundle.json"), "w") as f:
        f.write(stix2.Bundle(objects=indicators).serialize(pretty=True))

    event = MISPEvent()
    event.info = "Recruitment ring (fictional)"
    event.add_tag("tlp:green")
    event.add_attribute("phone-number", "+447700900888", comment="recruiter on a job site")
    event.add_attribute("domain", "misp-jobs.example")
    event.add_attribute("iban", "GB82WEST12345698765432")
    event.add_attribute("malware-sample", "file.exe|d41d8cd98f00b204e9800998ecf8427e", data="")
    with open(os.path.join(out, "event.json"), "w") as f:
        f.write(event.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
