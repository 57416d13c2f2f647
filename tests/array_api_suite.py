"""Run the Array API standard's conformance suite (data-apis/array-api-tests) against micrograd.numpy.

    python tests/array_api_suite.py [--suite DIR] [--backend numpy|numba|cupy] [--max-examples N] [--seed S]

DIR defaults to $ARRAY_API_TESTS_DIR. The suite is copied to a temporary folder first (its own folder may be
read-only, and Hypothesis writes a database beside it), run in a subprocess with MICROGRAD_BACKEND set, the
complex-only tests of array-api-tests.complex.txt left out (as --skips-file) and the expected failures of
array-api-tests.xfails.txt marked. It prints passed, failed, xfailed and skipped, and the pass rate over the
counted tests: those collected, less the complex-only ones; xfails and the suite's own skips count as not passed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XFAILS = ROOT / "array-api-tests.xfails.txt"
COMPLEX = ROOT / "array-api-tests.complex.txt"


def run(suite, backend="numpy", max_examples=20, seed=None, extra=(), keep_report=None):
    """Run the suite; returns a dict of counts (passed, failed, xfailed, xpassed, skipped, complex, counted, rate)
    and the failed tests' ids with the last line of their reports."""
    suite = Path(suite)
    if not (suite / "array_api_tests").is_dir():
        raise FileNotFoundError(f"array-api-tests: {suite} has no array_api_tests folder")
    with tempfile.TemporaryDirectory(prefix="array-api-tests-") as tmp:
        copy = Path(tmp) / "suite"
        shutil.copytree(suite, copy, ignore=shutil.ignore_patterns(".hypothesis", "__pycache__", ".pytest_cache"))
        report = Path(tmp) / "report.json"
        env = dict(os.environ, ARRAY_API_TESTS_MODULE="micrograd.numpy", MICROGRAD_BACKEND=backend,
                   ARRAY_API_TESTS_SKIP_DTYPES="complex64,complex128", ARRAY_API_TESTS_VERSION="2024.12")
        env.pop("HYPOTHESIS_PROFILE", None)  # the suite's own settings; --max-examples sets the size
        cmd = [sys.executable, "-m", "pytest", "array_api_tests/", "-q", "-p", "no:cacheprovider",
               "-p", "no:randomly", "--max-examples", str(max_examples), "--xfails-file", str(XFAILS),
               "--skips-file", str(COMPLEX), "--json-report", f"--json-report-file={report}",
               "--json-report-omit", "collectors", "keywords", "-W", "ignore"]
        if seed is not None:
            cmd.append(f"--hypothesis-seed={seed}")
        proc = subprocess.run(cmd + list(extra), cwd=copy, env=env, capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(f"array-api-tests did not run (exit {proc.returncode}):\n{proc.stdout[-4000:]}"
                               f"\n{proc.stderr[-4000:]}")
        if keep_report:
            shutil.copy(report, keep_report)
        tests = json.loads(report.read_text())["tests"]
    return tally(tests)


def listed(path):
    """The test ids of an xfails or skips file."""
    return {line.strip() for line in path.read_text().splitlines() if line.startswith("array_api_tests/")}


def tally(tests, complex_ids=None):
    """Counts by outcome; the complex-only tests (skipped by the skips file, or by the suite itself for want of
    complex dtypes) are left out."""
    complex_ids = listed(COMPLEX) if complex_ids is None else complex_ids
    counts = dict.fromkeys(("passed", "failed", "xfailed", "xpassed", "skipped", "complex"), 0)
    failures = []
    for t in tests:
        outcome = t["outcome"]
        if outcome == "skipped" and t["nodeid"] in complex_ids:
            counts["complex"] += 1
            continue
        if outcome == "error":
            outcome = "failed"
        counts[outcome] += 1
        if outcome == "failed":
            rep = (t.get("call") or t.get("setup") or {}).get("longrepr", "") or ""
            lines = [line for line in str(rep).splitlines() if line.startswith("E ")]
            failures.append((t["nodeid"], lines[0][2:].strip() if lines else str(rep)[-200:]))
    counts["counted"] = sum(counts[k] for k in ("passed", "failed", "xfailed", "xpassed", "skipped"))
    counts["rate"] = counts["passed"] / max(counts["counted"], 1)
    return counts, failures


def summary(counts):
    return (f"{counts['passed']} passed, {counts['failed']} failed, {counts['xfailed']} xfailed, "
            f"{counts['xpassed']} xpassed, {counts['skipped']} skipped (the suite's own) of {counts['counted']} "
            f"counted, {counts['complex']} complex-only left out: {100 * counts['rate']:.2f}% pass")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default=os.environ.get("ARRAY_API_TESTS_DIR"),
                        help="the array-api-tests folder (default: $ARRAY_API_TESTS_DIR)")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    parser.add_argument("--report", help="keep the suite's JSON report (pytest-json-report) in this file")
    args = parser.parse_args(argv)
    if not args.suite:
        parser.error("no suite: pass --suite or set ARRAY_API_TESTS_DIR (see README.md, 'The Array API suite')")
    counts, failures = run(args.suite, args.backend, args.max_examples, args.seed, keep_report=args.report)
    for nodeid, line in failures:
        print(f"FAILED {nodeid}: {line}")
    print(f"array-api-tests, micrograd.numpy on {args.backend}, --max-examples {args.max_examples}: {summary(counts)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
