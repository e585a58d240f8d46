"""A git revision of this repository in a temporary folder, for the benchmarks' paired runs."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export_revision(rev, folder, who):
    """Write git revision `rev` of this repository into `folder`, using this tree's data.
    Exits naming `who` (the benchmark) if git cannot."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", rev], capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"{who}: cannot export revision {rev!r}: "
                 f"{archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
    os.symlink(os.path.join(ROOT, "utils", "datasets"), os.path.join(folder, "utils", "datasets"))
