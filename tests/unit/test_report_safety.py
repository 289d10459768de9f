"""Issue 10 in the report stage: no user file lost, no repeated or absurd data taken silently,
no JSON that is not JSON, no leftovers of dead processes, outputs that follow the umask."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import InputError, OutputError
from snpappliance.fsutil import atomic_write_text, remove_dead_leftovers, staged_dir
from snpappliance.importer.logs import import_logs
from snpappliance.report.load import load_results
from snpappliance.report.publish import MANIFEST_NAME, check_out, write_manifest
from snpappliance.report.stats.analysis import StatsOptions, analyse, write_stats

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
HEADER = "scenario,metric,value,rep,run_id,attempt\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def previous_report(out: Path) -> None:
    write(out / "report.pdf", "%PDF")
    write(out / "figures" / "hist_cpu_perf.svg", "<svg/>")
    write(out / "stats" / "summary.json", "{}")
    write_manifest(out)


@pytest.mark.parametrize("user_file", ["figures/photo.png", "stats/my_analysis.R", "a/b/c/d.txt"])
def test_out_with_a_user_file_at_any_depth_is_refused(tmp_path: Path, user_file: str) -> None:
    out = tmp_path / "report"
    previous_report(out)
    write(out / user_file, "precious")
    with pytest.raises(OutputError, match=user_file.replace(".", r"\.")):
        check_out(out)


def test_out_of_only_snpapp_files_without_manifest_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write(out / "figures" / "photo.png", "precious")
    with pytest.raises(OutputError, match="did not write"):
        check_out(out)


def test_previous_report_new_and_empty_dirs_are_accepted(tmp_path: Path) -> None:
    check_out(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty")
    previous_report(tmp_path / "old")
    check_out(tmp_path / "old")
    assert MANIFEST_NAME in json.loads((tmp_path / "old" / MANIFEST_NAME).read_text())["files"]


def test_report_cli_keeps_a_user_file_inside_a_report_subdir(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    results = write(tmp_path / "r.csv", "scenario,metric,value\na,m,1\nb,m,2\n")
    out = tmp_path / "out"
    previous_report(out)
    photo = write(out / "figures" / "photo.png", "precious")
    code, _, err = snpapp("report", str(results), "--out", str(out))
    assert code == 5, err
    assert "figures/photo.png" in err
    assert photo.read_text() == "precious"


def test_import_knows_a_log_by_content_not_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    shutil.copyfile(LOGS / "sysbench-1.0.20-cpu-t1.log", tmp_path / "a" / "cpu-1.log")
    out = tmp_path / "results.csv"
    import_logs(paths=[Path("a/cpu-1.log")], scenario="s", out=out)
    with pytest.raises(InputError, match="same content"):
        import_logs(paths=[(tmp_path / "a" / "cpu-1.log").resolve()], scenario="s", out=out)
    (tmp_path / "b").mkdir()
    other = (LOGS / "sysbench-1.0.20-cpu-t2.log").read_bytes()
    (tmp_path / "b" / "cpu-1.log").write_bytes(other)
    import_logs(paths=[Path("b/cpu-1.log")], scenario="s", out=out)
    assert len(load_results(out).frame) == 2


def test_a_file_concatenated_with_itself_is_refused_naming_lines(tmp_path: Path) -> None:
    body = "a,m,1,1,r1,1\na,m,2,2,r2,1\n"
    path = write(tmp_path / "r.csv", HEADER + body + body)
    with pytest.raises(InputError, match="repeats 4 rows") as caught:
        load_results(path)
    assert "lines 2, 4" in (caught.value.detail or "")


def test_other_attempts_and_rows_without_run_id_are_not_repeats(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", HEADER + "a,m,1,1,r1,1\na,m,2,1,r1,2\na,m,3,,,\na,m,3,,,\n")
    assert len(load_results(path).frame) == 4


def test_repeated_header_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "scenario,metric,value,value\na,m,1,2\n")
    with pytest.raises(InputError, match="'value' appears twice"):
        load_results(path)


def test_repeated_jsonl_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", '{"scenario": "a", "metric": "m", "value": 1, "value": 2}\n')
    with pytest.raises(InputError, match="appears twice"):
        load_results(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,cpu_perf,-0.12", "negative, but cpu_perf is a throughput"),
        ("a,wall_s,-1", "negative, but wall_s is a time"),
        ("a,iops,-3", None),
        ("a,score,1e308", "outside"),
        ("a,score,-1.7e308", "outside"),
    ],
)
def test_values_are_range_checked_by_metric_kind(
    tmp_path: Path, row: str, message: str | None
) -> None:
    path = write(tmp_path / "r.csv", f"scenario,metric,value,unit\n{row},\n")
    if message is None:
        write(path, f"scenario,metric,value\n{row}\n")
        assert load_results(path).frame["value"].tolist() == [-3.0]
        return
    with pytest.raises(InputError, match=message):
        load_results(path)


def test_huge_values_give_an_error_not_a_traceback(snpapp: SnpappRunner, tmp_path: Path) -> None:
    results = write(tmp_path / "r.csv", "scenario,metric,value\na,m,1e308\nb,m,-1.7e308\n")
    code, _, err = snpapp("report", str(results), "--out", str(tmp_path / "out"))
    assert code == 4, err
    assert "Traceback" not in err
    assert "outside" in err


def test_summary_json_is_strict_json(tmp_path: Path) -> None:
    rows = "".join(f"{s},m,{v}\n" for s in ("a", "b") for v in (1e-300, 2e-300, 1e99, 3))
    results = load_results(write(tmp_path / "r.csv", "scenario,metric,value\n" + rows))
    write_stats(analyse(results, options=StatsOptions(bootstrap_resamples=50)), tmp_path)
    text = (tmp_path / "stats" / "summary.json").read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))


def test_leftovers_of_a_dead_process_are_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    final = tmp_path / "report"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    stale = [tmp_path / f".report.staging-{dead_pid}-abc", tmp_path / f".report.old-{dead_pid}-x"]
    live = tmp_path / f".report.staging-{os.getppid()}-def"
    other = tmp_path / f".other.staging-{dead_pid}-abc"
    for d in (*stale, live, other):
        d.mkdir()
    with staged_dir(final) as stage:
        (stage / "f").write_text("x")
    assert not any(d.exists() for d in stale)
    assert live.exists()
    assert other.exists()
    assert remove_dead_leftovers(final) == []


def test_staging_names_carry_the_pid(tmp_path: Path) -> None:
    with staged_dir(tmp_path / "out") as stage:
        assert stage.name.startswith(f".out.staging-{os.getpid()}-")


def test_outputs_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.csv", "x")
        with staged_dir(tmp_path / "rep") as stage:
            atomic_write_text(stage / "g.csv", "y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "rep").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "rep" / "g.csv").stat().st_mode) == 0o644
