"""The seam's proof holds: the search tests marked `memory` run without Tantivy and SQLite.

In this process tests/conftest.py has already imported the embedded store, so
the modules are run again in a fresh interpreter where importing tantivy,
sqlite3 or usearch raises, without any conftest (their shared fixtures live in
corpus.py). Everything they import, and everything their tests call, must
then do without those libraries: a module-level import and a lazy one inside a
function both fail there.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
MARK = re.compile(r"^pytestmark = pytest\.mark\.memory$", re.MULTILINE)
BLOCKED = ("tantivy", "sqlite3", "_sqlite3", "usearch")

RUNNER = """
import sys

BLOCKED = {blocked!r}


class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} may not be imported by the memory tests")
        return None


assert not [m for m in sys.modules if m.split(".")[0] in BLOCKED]
sys.meta_path.insert(0, Blocked())
import pytest

code = pytest.main(
    ["-q", "-p", "no:cacheprovider", "--noconftest",
     "-W", "ignore::pytest.PytestUnknownMarkWarning", *sys.argv[1:]]
)
leaked = [m for m in sys.modules if m.split(".")[0] in BLOCKED]
print("leaked:", leaked)
sys.exit(code or bool(leaked))
"""


def memory_modules() -> list[Path]:
    return sorted(p for p in HERE.glob("test_*.py") if MARK.search(p.read_text(encoding="utf-8")))


def test_memory_tests_run_without_tantivy_or_sqlite() -> None:
    modules = memory_modules()
    names = {p.name for p in modules}
    assert {"test_ranking.py", "test_paging.py", "test_suggest.py", "test_insights.py"} <= names
    assert Path(__file__).name not in names  # it would run itself
    script = RUNNER.format(blocked=BLOCKED)
    run = subprocess.run(
        [sys.executable, "-c", script, *(str(p.relative_to(ROOT)) for p in modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "leaked: []" in output
    passed = re.search(r"(\d+) passed", output)
    assert passed is not None and int(passed.group(1)) >= 100, output[-2000:]
