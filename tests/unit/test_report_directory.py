"""A check whose evidence cannot be written fails before its first step: nothing is changed, and the
error names the report's place and the fix."""

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
STEP = "from pathlib import Path\n\ndef test_step():\n    Path('{marker}').write_text('changed')\n"


@pytest.fixture
def check_dir(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    marker = pytester.path / "the-step-ran"
    (pytester.path / "ops_checks" / "quiet.py").write_text(STEP.format(marker=marker))
    return pytester, marker


@pytest.fixture
def read_only_reports(pytester):
    """reports/ on a real read-only filesystem (root writes through any mode bits, not through this)."""
    reports = pytester.path / "reports"
    reports.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(reports)], check=True)
    yield reports
    subprocess.run(["umount", str(reports)], check=True)


def _refused(result, marker: Path, place: str) -> None:
    __tracebackhide__ = True
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    err = result.stderr.str()
    assert "cannot be written" in err and place in err and "no step was run, nothing was changed" in err, err
    assert "--html=PATH" in err
    assert not marker.exists(), "the step ran although its evidence could not be written"


def test_a_read_only_report_directory_stops_the_check_before_its_first_step(check_dir, read_only_reports):
    pytester, marker = check_dir
    result = pytester.runpytest_subprocess("ops_checks/quiet.py", "-p", "no:cacheprovider")
    _refused(result, marker, str(read_only_reports / "quiet"))
    assert "Read-only file system" in result.stderr.str()


def test_a_file_where_the_reports_directory_should_be_stops_the_check(check_dir):
    pytester, marker = check_dir
    (pytester.path / "reports").write_text("not a directory")
    result = pytester.runpytest_subprocess("ops_checks/quiet.py", "-p", "no:cacheprovider")
    _refused(result, marker, str(pytester.path / "reports"))
