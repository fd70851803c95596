#!/usr/bin/env python3
"""Run the official Mustache spec through "candorctl render".

Usage: mustache_spec.py CANDORCTL SPEC_DIR

Every test of the required files (and of the optional "~" files candor
supports) is written out as a template, a partials directory and a JSON
data file, rendered by the real command, and compared byte for byte.
Prints one TAP line per test and exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

REQUIRED = ["comments", "delimiters", "interpolation", "inverted",
            "partials", "sections"]
# Optional modules candor implements. Lambdas need code in the data and
# inheritance is not implemented, so those two are not run.
OPTIONAL = ["~dynamic-names"]


def run_one(ctl, work, test):
    tpl = os.path.join(work, "template.mustache")
    data = os.path.join(work, "data.json")
    pdir = os.path.join(work, "partials")
    os.makedirs(pdir, exist_ok=True)
    for f in os.listdir(pdir):
        os.unlink(os.path.join(pdir, f))
    with open(tpl, "w", encoding="utf-8", newline="") as f:
        f.write(test["template"])
    with open(data, "w", encoding="utf-8") as f:
        json.dump(test["data"], f)
    for name, text in test.get("partials", {}).items():
        with open(os.path.join(pdir, name + ".mustache"), "w",
                  encoding="utf-8", newline="") as f:
            f.write(text)
    proc = subprocess.run([ctl, "render", "--template", tpl, "--partials",
                           pdir, "--data", data], capture_output=True)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), \
        proc.stderr.decode("utf-8", "replace")


def main():
    ctl, spec = sys.argv[1], sys.argv[2]
    tests = []
    for mod in REQUIRED + OPTIONAL:
        with open(os.path.join(spec, mod + ".json"), encoding="utf-8") as f:
            for t in json.load(f)["tests"]:
                tests.append((mod, t))
    print("1..%d" % len(tests))
    failed = 0
    with tempfile.TemporaryDirectory() as work:
        for i, (mod, t) in enumerate(tests, 1):
            rc, out, err = run_one(ctl, work, t)
            ok = rc == 0 and out == t["expected"]
            if not ok:
                failed += 1
                print("# template: %r\n# expected: %r\n# got:      %r (exit %d) %s"
                      % (t["template"], t["expected"], out, rc, err.strip()))
            print("%s %d - %s: %s" % ("ok" if ok else "not ok", i, mod, t["name"]))
    print("# mustache spec: %d of %d passed" % (len(tests) - failed, len(tests)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
