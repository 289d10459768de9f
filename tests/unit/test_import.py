"""`snpapp import` and snpappliance.importer.logs: raw logs appended to the long results format."""

from __future__ import annotations

import csv
import itertools
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import InputError, ParseError, UsageError
from snpappliance.formats.results import COLUMNS
from snpappliance.importer.logs import expand_inputs, import_logs
from snpappliance.report.load import load_results

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
#: 2026-01-02T03:04:05Z
MTIME = 1767323045


_COPIES = itertools.count(1)


def put(directory: Path, fixture: str, name: str | None = None, *, same: bool = False) -> Path:
    """Copy a fixture log into ``directory`` with a known modification time.

    Each copy is a distinct run (its own number of trailing blank lines), unless ``same``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / (name or fixture)
    shutil.copyfile(LOGS / fixture, target)
    if not same:
        with target.open("a", encoding="utf-8") as fh:
            fh.write("\n" * next(_COPIES))
    os.utime(target, (MTIME, MTIME))
    return target


def rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``path``, run_id without its content digest (``name@digest``)."""
    with path.open(encoding="utf-8", newline="") as fh:
        found = list(csv.DictReader(fh))
    for row in found:
        row["run_id"] = row["run_id"].rsplit("@", 1)[0]
    return found


def test_creates_file_with_header_and_exact_rows(tmp_path: Path) -> None:
    logs = [
        put(tmp_path / "in", "sysbench-1.0.20-cpu-t1.log", "a.log"),
        put(tmp_path / "in", "combined-memory-time.log", "b.log"),
    ]
    out = tmp_path / "res" / "results.csv"
    summary = import_logs(paths=logs, scenario="sev_off", out=out, host="genoa01")
    assert summary.files == 2
    assert summary.rows_per_metric == {"cpu_perf": 1, "ram_bw_mib_s": 1, "ram_wall_s": 1}
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    when = "2026-01-02T03:04:05+00:00"
    assert rows(out) == [
        {"scenario": "sev_off", "workload": "sysbench-cpu", "metric": "cpu_perf",
         "value": "939.12", "unit": "events/s", "rep": "1", "host": "genoa01",
         "run_id": "a.log", "attempt": "", "status": "ok", "started_at": when},
        {"scenario": "sev_off", "workload": "sysbench-memory", "metric": "ram_bw_mib_s",
         "value": "20854.5", "unit": "MiB/s", "rep": "1", "host": "genoa01",
         "run_id": "b.log", "attempt": "", "status": "ok", "started_at": when},
        {"scenario": "sev_off", "workload": "sysbench-memory", "metric": "ram_wall_s",
         "value": "0.05", "unit": "s", "rep": "1", "host": "genoa01",
         "run_id": "b.log", "attempt": "", "status": "ok", "started_at": when},
    ]  # fmt: skip
    loaded = load_results(out)
    assert loaded.metrics == ["cpu_perf", "ram_bw_mib_s", "ram_wall_s"]
    assert loaded.frame["value"].tolist() == [939.12, 20854.5, 0.05]


def test_reps_continue_per_scenario_and_metric(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    first = [put(tmp_path / "1", "sysbench-1.0.20-cpu-t1.log", f"c{i}.log") for i in (1, 2)]
    import_logs(paths=first, scenario="off", out=out)
    second = [
        put(tmp_path / "2", "sysbench-1.0.20-cpu-t2.log", "c3.log"),
        put(tmp_path / "2", "sysbench-1.0.20-memory.log", "m1.log"),
    ]
    import_logs(paths=second, scenario="off", out=out)
    import_logs(paths=[put(tmp_path / "3", "sysbench-1.1.0-cpu.log")], scenario="on", out=out)
    got = [(r["scenario"], r["metric"], r["rep"], r["run_id"], r["value"]) for r in rows(out)]
    assert got == [
        ("off", "cpu_perf", "1", "c1.log", "939.12"),
        ("off", "cpu_perf", "2", "c2.log", "939.12"),
        ("off", "cpu_perf", "3", "c3.log", "1821.78"),
        ("off", "ram_bw_mib_s", "1", "m1.log", "23767.53"),
        ("on", "cpu_perf", "1", "sysbench-1.1.0-cpu.log", "780.69"),
    ]


def test_reps_continue_after_the_highest_existing_rep(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text(
        ",".join(COLUMNS) + "\n"
        "off,sysbench-cpu,cpu_perf,1.0,events/s,7,,x,,ok,\n"
        "off,sysbench-cpu,cpu_perf,1.0,events/s,,,y,,ok,\n",
        encoding="utf-8",
    )
    import_logs(paths=[put(tmp_path, "sysbench-1.0.20-cpu-t1.log")], scenario="off", out=out)
    assert rows(out)[-1]["rep"] == "8"


def test_one_bad_file_appends_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    import_logs(paths=[put(tmp_path / "a", "sysbench-1.0.20-cpu-t1.log")], scenario="s", out=out)
    before = out.read_bytes()
    good = put(tmp_path / "b", "sysbench-1.0.20-cpu-t2.log")
    bad = put(tmp_path / "b", "truncated-memory.log")
    with pytest.raises(ParseError) as caught:
        import_logs(paths=[good, bad], scenario="s", out=out)
    assert caught.value.message.startswith(str(bad))
    assert "MiB transferred" in caught.value.message
    assert out.read_bytes() == before


def test_bad_file_does_not_create_the_results_file(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    with pytest.raises(ParseError, match="non-zero status 3"):
        import_logs(paths=[put(tmp_path, "time-nonzero.txt")], scenario="s", out=out)
    assert not out.exists()


def test_foreign_header_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("scenario,metric,value\noff,cpu_perf,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="header is not snpapp's results header"):
        import_logs(paths=[put(tmp_path, "time-ok.txt")], scenario="s", out=out)
    assert out.read_text(encoding="utf-8") == "scenario,metric,value\noff,cpu_perf,1\n"


def test_torn_last_line_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text(",".join(COLUMNS) + "\noff,sysbench-cpu,cpu_perf,9", encoding="utf-8")
    with pytest.raises(InputError, match="does not end with a newline"):
        import_logs(paths=[put(tmp_path, "time-ok.txt")], scenario="s", out=out)


def test_results_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_bytes(b"\xff\xfe\x00binary\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        import_logs(paths=[put(tmp_path, "time-ok.txt")], scenario="s", out=out)
    assert out.read_bytes() == b"\xff\xfe\x00binary\n"


def test_non_integer_rep_names_the_line(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text(
        ",".join(COLUMNS) + "\noff,,cpu_perf,1,,1,,a,,ok,\noff,,cpu_perf,1,,two,,b,,ok,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"results\.csv:3: column 'rep' is not a whole number"):
        import_logs(paths=[put(tmp_path, "time-ok.txt")], scenario="s", out=out)


def test_directory_means_its_logs_in_natural_order(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for rep in (10, 2, 1):
        put(runs, "sysbench-1.0.20-cpu-t1.log", f"cpu-{rep}.log")
    put(runs, "time-ok.txt", "wall-1.txt")
    put(runs, "time-ok.txt", "cpu-1.log.time")
    put(runs, "garbage.log", "notes.md")
    (runs / "sub.log").mkdir()
    assert [p.name for p in expand_inputs([runs])] == [
        "cpu-1.log",
        "cpu-2.log",
        "cpu-10.log",
        "wall-1.txt",
    ]
    out = tmp_path / "results.csv"
    import_logs(paths=[runs], scenario="s", out=out)
    got = [(r["metric"], r["rep"], r["run_id"]) for r in rows(out)]
    assert got == [
        ("cpu_perf", "1", "cpu-1.log"),
        ("cpu_perf", "2", "cpu-2.log"),
        ("cpu_perf", "3", "cpu-10.log"),
        ("wall_s", "1", "wall-1.txt"),
    ]


def test_directory_without_logs(tmp_path: Path) -> None:
    put(tmp_path / "d", "time-ok.txt", "x.csv")
    with pytest.raises(InputError, match=r"holds no \*\.log or \*\.txt files"):
        expand_inputs([tmp_path / "d"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"log file .*nope\.log does not exist"):
        import_logs(paths=[tmp_path / "nope.log"], scenario="s", out=tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()


def test_same_file_twice_is_refused(tmp_path: Path) -> None:
    log = put(tmp_path / "d", "time-ok.txt")
    with pytest.raises(UsageError, match="has the same content as"):
        import_logs(paths=[tmp_path / "d", log], scenario="s", out=tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()


def test_importing_a_log_again_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    log = put(tmp_path, "sysbench-1.0.20-cpu-t1.log")
    import_logs(paths=[log], scenario="s", out=out)
    before = out.read_bytes()
    with pytest.raises(InputError, match="is already in"):
        import_logs(paths=[log], scenario="s", out=out)
    assert out.read_bytes() == before
    import_logs(paths=[log], scenario="other", out=out)
    assert len(rows(out)) == 2


def test_same_name_in_two_directories_gets_distinct_run_ids(tmp_path: Path) -> None:
    a = put(tmp_path / "a", "time-ok.txt", "run.txt")
    b = put(tmp_path / "b", "time-ok.txt", "run.txt")
    out = tmp_path / "results.csv"
    import_logs(paths=[a, b], scenario="s", out=out)
    with out.open(encoding="utf-8", newline="") as fh:
        run_ids = [r["run_id"] for r in csv.DictReader(fh)]
    assert [r.split("@")[0] for r in run_ids] == ["run.txt", "run.txt"]
    assert run_ids[0] != run_ids[1]


def test_workload_option_overrides_the_parsed_one(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    log = put(tmp_path, "combined-cpu-time.log")
    import_logs(paths=[log], scenario="s", out=out, workload="prime-20000")
    assert [(r["metric"], r["workload"]) for r in rows(out)] == [
        ("cpu_perf", "prime-20000"),
        ("cpu_wall_s", "prime-20000"),  # the metric names what was timed
    ]


@pytest.mark.parametrize("name", ["results.jsonl", "results"])
def test_out_must_be_csv(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match=r"is not a \.csv file"):
        import_logs(paths=[put(tmp_path, "time-ok.txt")], scenario="s", out=tmp_path / name)


# --- through the CLI edge -------------------------------------------------------------


def test_cli_prints_only_the_path_on_stdout(tmp_path: Path, snpapp: SnpappRunner) -> None:
    out = tmp_path / "results.csv"
    logs = put(tmp_path / "logs", "combined-cpu-time.log").parent
    code, stdout, stderr = snpapp("import", str(logs), "--scenario", "sev_on", "--out", str(out))
    assert code == 0, stderr
    assert stdout == f"{out}\n"
    assert "imported 1 file(s)" in stderr
    assert "cpu_perf: 1 row(s)" in stderr
    assert "wall_s: 1 row(s)" in stderr
    assert [r["value"] for r in rows(out)] == ["850.81", "2.0"]


def test_cli_parse_error_exit_code_and_message(tmp_path: Path, snpapp: SnpappRunner) -> None:
    out = tmp_path / "results.csv"
    bad = put(tmp_path, "sysbench-1.0.20-memory-oper-none.log")
    code, stdout, stderr = snpapp("import", str(bad), "--scenario", "s", "--out", str(out))
    assert code == 4
    assert stdout == ""
    assert "parse error" in stderr
    assert "--memory-oper=none" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_cli_missing_file(tmp_path: Path, snpapp: SnpappRunner) -> None:
    missing = tmp_path / "missing.log"
    code, _, stderr = snpapp("import", str(missing), "-s", "s", "-o", str(tmp_path / "r.csv"))
    assert code == 4
    assert "missing.log does not exist" in stderr
    assert "hint:" in stderr


def test_cli_out_is_a_directory(tmp_path: Path, snpapp: SnpappRunner) -> None:
    log = put(tmp_path / "logs", "time-ok.txt")
    code, stdout, stderr = snpapp("import", str(log), "-s", "s", "--out", str(tmp_path))
    assert code == 2
    assert stdout == ""
    assert "is a directory" in stderr
    assert "--out results.csv" in stderr


def test_cli_requires_scenario(tmp_path: Path, snpapp: SnpappRunner) -> None:
    log = put(tmp_path, "time-ok.txt")
    code, _, stderr = snpapp("import", str(log), "--out", str(tmp_path / "r.csv"))
    assert code == 2
    assert "--scenario" in stderr


def test_cli_help_teaches(snpapp: SnpappRunner) -> None:
    code, stdout, _ = snpapp("import", "--help")
    assert code == 0
    for text in ("cpu_perf", "ram_bw_mib_s", "wall_s", "APPENDED", "Examples", "--scenario"):
        assert text in stdout
    assert "snpapp import logs/off/*.log --scenario sev_off --out results.csv" in stdout
