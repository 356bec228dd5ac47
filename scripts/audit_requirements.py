"""pip-audit over the pinned requirements (requirements-dev.txt includes requirements.txt).

Fails (exit 1) on a known vulnerability that is not in IGNORED, or when some packages could
be audited and others not. When the vulnerability service answers for no package at all (a
machine that reaches the package index but not its per-release JSON API, where pip-audit
reads the advisories), it prints that the audit was SKIPPED and exits 0, or 1 when
AUDIT_REQUIRED=1 is set: set it wherever the service is reachable, so a network fault there
cannot pass for a clean audit.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements-dev.txt"]
# Vulnerability id -> why it does not apply here. Each entry is passed as --ignore-vuln.
IGNORED: dict[str, str] = {}


def main() -> int:
    command = [
        str(Path(sys.executable).parent / "pip-audit"),
        "--format",
        "json",
        "--progress-spinner",
        "off",
        *[arg for name in REQUIREMENTS for arg in ("-r", str(ROOT / name))],
        *[arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)],
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        print("pip-audit: FAILED to run (see above)", file=sys.stderr)
        return 1

    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(f"pip-audit: FAILED, {len(vulnerable)} vulnerable package(s)", file=sys.stderr)
        return 1
    if skipped and audited:
        for dependency in skipped:
            print(f"{dependency['name']}: {dependency['skip_reason']}", file=sys.stderr)
        print(f"pip-audit: FAILED, {len(skipped)} package(s) not audited", file=sys.stderr)
        return 1
    if skipped:
        print(
            f"pip-audit: SKIPPED, the vulnerability service answered for none of the "
            f"{len(skipped)} packages ({skipped[0]['skip_reason']}).",
            file=sys.stderr,
        )
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0
    ignored = f", ignored: {', '.join(IGNORED)}" if IGNORED else ""
    print(f"pip-audit: {audited} packages, no known vulnerabilities{ignored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
