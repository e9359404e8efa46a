"""Build the ATT&CK reference data shipped in the package from ../shared/data/mitre-attack (run by hand when
ATT&CK is updated): active techniques and sub-techniques, tactics and groups of Enterprise and ICS, as STIX 2.1,
descriptions shortened, with MITRE's identity and copyright marking. Writes src/herdsec/intel/data/attack.json.gz.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

SOURCES = ["enterprise-attack-stix20-reassembled.json", "ics-attack-18.1-stix21.json"]
KEEP = {"attack-pattern", "x-mitre-tactic", "intrusion-set", "identity", "marking-definition"}
PROPS = {
    "type",
    "id",
    "spec_version",
    "created",
    "modified",
    "created_by_ref",
    "name",
    "description",
    "external_references",
    "kill_chain_phases",
    "object_marking_refs",
    "aliases",
    "x_mitre_shortname",
    "x_mitre_is_subtechnique",
    "x_mitre_platforms",
    "x_mitre_domains",
    "x_mitre_version",
    "definition_type",
    "definition",
    "identity_class",
}


def main(shared: Path, out: Path) -> None:
    objects: dict[str, dict[str, object]] = {}
    for name in SOURCES:
        for obj in json.loads((shared / name).read_text())["objects"]:
            if obj["type"] not in KEEP or obj.get("revoked") or obj.get("x_mitre_deprecated"):
                continue
            slim = {k: v for k, v in obj.items() if k in PROPS}
            slim["spec_version"] = "2.1"
            if isinstance(slim.get("description"), str) and len(slim["description"]) > 600:
                slim["description"] = slim["description"][:600].rsplit(" ", 1)[0] + " …"
            refs = slim.get("external_references")
            if isinstance(refs, list):
                slim["external_references"] = [r for r in refs if r.get("source_name", "").startswith("mitre")]
            if obj["type"] == "identity" and "identity_class" not in slim:
                slim["identity_class"] = "organization"
            objects[obj["id"]] = slim
    bundle = {
        "type": "bundle",
        "id": "bundle--6d0b9b55-9e3c-4e49-9c1e-7f7b2f0d2a18",
        # definitions first: markings must be known before the objects that carry them are read
        "objects": sorted(
            objects.values(),
            key=lambda o: (o["type"] not in ("marking-definition", "identity"), str(o["type"]), str(o["id"])),
        ),
    }
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as handle:
        json.dump(bundle, handle, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    print(f"{out}: {len(objects)} objects, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "data" / "mitre-attack",
        root / "src" / "herdsec" / "intel" / "data" / "attack.json.gz",
    )
