"""Rebuild the NICE data shipped in ``src/herdsec/skills/data/`` from ``../shared/data/nist-nice/`` (run by hand when
NIST publishes a new CPRT export): ``python scripts/build-nice-data.py [SHARED_DIR]``."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from herdsec.skills import legacy as legacy_statements
from herdsec.skills.catalogue import from_cprt, legacy_from_2017, legacy_to_compact, to_compact

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "herdsec" / "skills" / "data"


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "nist-nice"
    cprt = json.loads((shared / "cprt" / "cprt_SP_800_181_2_1_0.json").read_text(encoding="utf-8"))
    catalogue = from_cprt(cprt, source="NIST CPRT export SP_800_181_2_1_0")
    body = json.dumps(to_compact(catalogue), ensure_ascii=False, separators=(",", ":")).encode()
    (OUT / f"nice-cprt-{catalogue.version}.json.gz").write_bytes(gzip.compress(body, mtime=0))
    roles_2017 = json.loads((shared / "sp800-181-2017" / "work_roles.json").read_text(encoding="utf-8"))
    legacy = [
        {"code": r.code, "title": r.title, "opm_code": r.opm_code, "successors": list(r.successors)}
        for r in legacy_from_2017(roles_2017, catalogue)
    ]
    (OUT / "nice-2017-roles.json").write_text(json.dumps(legacy, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    old = shared / "sp800-181-2017"
    mapped = legacy_statements.map_2017(
        json.loads((old / "ksat_statements.json").read_text(encoding="utf-8")),
        json.loads((old / "work_role_ksat.json").read_text(encoding="utf-8")),
        legacy_from_2017(roles_2017, catalogue),
        catalogue,
    )
    body = json.dumps(legacy_to_compact(mapped, legacy_statements.THRESHOLD), ensure_ascii=False, separators=(",", ":"))
    (OUT / "nice-2017-statements.json.gz").write_bytes(gzip.compress(body.encode(), mtime=0))
    print(catalogue.counts())
    print(legacy_statements.coverage(mapped))


if __name__ == "__main__":
    main()
