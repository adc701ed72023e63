#!/usr/bin/env python3
"""scripts/check-includes.py: on a planted tree it flags a name whose header is missing and
accepts one that a project header provides; on the repository it finds nothing (so a file that
builds only through GCC 12's transitive includes fails here, not on a machine with a newer GCC)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECK = os.path.join(REPO, "scripts", "check-includes.py")


def run(root):
    r = subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)
    return r.returncode, r.stdout


problems = []
with tempfile.TemporaryDirectory() as d:
    os.makedirs(os.path.join(d, "engine"))
    open(os.path.join(d, "engine", "types.h"), "w").write("#pragma once\n#include <cstdint>\n")
    open(os.path.join(d, "engine", "ok.cpp"), "w").write(
        '#include "engine/types.h"\n#include <vector>\nstd::vector<std::uint8_t> v;\n')
    open(os.path.join(d, "bad.cpp"), "w").write(
        '#include <string>\n// std::clamp( in a comment is not a use\n'
        'int f(int x) { return std::clamp(x, 0, 9); }\nstd::uint8_t g;\n')
    rc, out = run(d)
    if rc != 1:
        problems.append(f"planted tree: exit {rc}, expected 1")
    for want in ("bad.cpp:3: uses std::clamp( but includes no <algorithm>", "bad.cpp:4: uses std::uint8_t but includes no <cstdint>"):
        if want not in out:
            problems.append(f"planted tree: missing finding {want!r} in {out!r}")
    if "ok.cpp" in out:
        problems.append(f"planted tree: ok.cpp flagged although engine/types.h includes <cstdint>: {out!r}")
rc, out = run(REPO)
if rc != 0:
    problems.append("the repository has findings:\n" + out)
if problems:
    sys.exit("\n".join(problems))
print("check-includes: planted findings caught, repository clean")
