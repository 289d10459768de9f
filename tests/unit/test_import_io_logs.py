"""`snpapp import` of fio JSON and iperf3 output, beside sysbench / GNU time logs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import ParseError
from snpappliance.formats.results import KNOWN_METRICS, Direction, MetricKind
from snpappliance.importer.logs import expand_inputs, import_logs

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def put(directory: Path, fixture: str, name: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / (name or Path(fixture).name)
    shutil.copyfile(FIXTURES / fixture, target)
    return target


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_directory_with_fio_iperf3_and_sysbench(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    put(runs, "fio/two-jobs.json", "fio-1.json")
    put(runs, "iperf3/tcp-client.txt", "net-1.txt")
    put(runs, "iperf3/udp-client.json", "net-2.json")
    put(runs, "logs/sysbench-1.0.20-cpu-t1.log", "cpu-1.log")
    assert [p.name for p in expand_inputs([runs])] == [
        "cpu-1.log", "fio-1.json", "net-1.txt", "net-2.json",
    ]  # fmt: skip
    out = tmp_path / "results.csv"
    summary = import_logs(paths=[runs], scenario="sev_on", out=out)
    got = [(r["workload"], r["metric"], r["value"], r["unit"], r["rep"]) for r in rows(out)]
    assert got == [
        ("sysbench-cpu", "cpu_perf", "939.12", "events/s", "1"),
        ("seq-read", "fio_read_bw_kib_s", "1018114.0", "KiB/s", "1"),
        ("seq-read", "fio_read_iops", "7954.022989", "IOPS", "1"),
        ("seq-read", "fio_read_lat_mean_us", "502.250725371", "us", "1"),
        ("seq-read", "fio_read_clat_p99_us", "602.112", "us", "1"),
        ("rand-write", "fio_write_bw_kib_s", "252761.0", "KiB/s", "1"),
        ("rand-write", "fio_write_iops", "63190.404798", "IOPS", "1"),
        ("rand-write", "fio_write_lat_mean_us", "126.144093535", "us", "1"),
        ("rand-write", "fio_write_clat_p99_us", "220.16", "us", "1"),
        ("iperf3-tcp", "iperf3_sender_mbit_s", "18800.0", "Mbit/s", "1"),
        ("iperf3-tcp", "iperf3_receiver_mbit_s", "18800.0", "Mbit/s", "1"),
        ("iperf3-tcp", "iperf3_retransmits", "0.0", "count", "1"),
        ("iperf3-udp", "iperf3_receiver_mbit_s", "99.9741447390782", "Mbit/s", "1"),
        ("iperf3-udp", "iperf3_jitter_ms", "0.02427701954231019", "ms", "1"),
        ("iperf3-udp", "iperf3_loss_pct", "0.0", "%", "1"),
    ]
    assert summary.rows_per_workload[("iperf3-udp", "iperf3_receiver_mbit_s")] == 1
    assert summary.rows_per_workload[("iperf3-tcp", "iperf3_receiver_mbit_s")] == 1


def test_reps_count_per_workload_so_jobs_and_protocols_never_pool(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    first = [
        put(tmp_path / "a", "iperf3/tcp-client.json"),
        put(tmp_path / "a", "fio/numjobs2-group.json"),
    ]
    import_logs(paths=first, scenario="s", out=out)
    second = [
        put(tmp_path / "b", "iperf3/tcp-p3-client.json"),
        put(tmp_path / "b", "iperf3/udp-p3-client.json"),
        put(tmp_path / "b", "fio/randread-libaio-direct.json"),
    ]
    import_logs(paths=second, scenario="s", out=out)
    reps = {(r["workload"], r["metric"], r["run_id"].split("@")[0]): r["rep"] for r in rows(out)}
    assert reps[("iperf3-tcp", "iperf3_receiver_mbit_s", "tcp-client.json")] == "1"
    assert reps[("iperf3-tcp", "iperf3_receiver_mbit_s", "tcp-p3-client.json")] == "2"
    assert reps[("iperf3-udp", "iperf3_receiver_mbit_s", "udp-p3-client.json")] == "1"
    assert reps[("randread-grp", "fio_read_iops", "numjobs2-group.json")] == "1"
    assert reps[("randread-4k", "fio_read_iops", "randread-libaio-direct.json")] == "1"


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("fio/unaligned-direct-error.json", "failed with error 22"),
        ("fio/bad-option.log", "no fio JSON report"),
        ("iperf3/refused-client.txt", "unable to connect to server"),
        ("iperf3/udp-reverse-server.json", "no receiver summary"),
    ],
)
def test_a_bad_report_appends_nothing(tmp_path: Path, fixture: str, message: str) -> None:
    out = tmp_path / "results.csv"
    good = put(tmp_path / "in", "fio/read-psync.json")
    bad = put(tmp_path / "in", fixture)
    with pytest.raises(ParseError, match=message) as caught:
        import_logs(paths=[good, bad], scenario="s", out=out)
    assert caught.value.message.startswith(str(bad))
    assert not out.exists()


def test_new_metrics_declare_unit_direction_and_kind() -> None:
    expected = {
        "fio_read_bw_kib_s": ("KiB/s", Direction.HIGHER, MetricKind.THROUGHPUT),
        "fio_write_bw_kib_s": ("KiB/s", Direction.HIGHER, MetricKind.THROUGHPUT),
        "fio_read_iops": ("IOPS", Direction.HIGHER, MetricKind.THROUGHPUT),
        "fio_write_iops": ("IOPS", Direction.HIGHER, MetricKind.THROUGHPUT),
        "fio_read_lat_mean_us": ("us", Direction.LOWER, MetricKind.TIME),
        "fio_write_lat_mean_us": ("us", Direction.LOWER, MetricKind.TIME),
        "fio_read_clat_p99_us": ("us", Direction.LOWER, MetricKind.TIME),
        "fio_write_clat_p99_us": ("us", Direction.LOWER, MetricKind.TIME),
        "iperf3_sender_mbit_s": ("Mbit/s", Direction.HIGHER, MetricKind.THROUGHPUT),
        "iperf3_receiver_mbit_s": ("Mbit/s", Direction.HIGHER, MetricKind.THROUGHPUT),
        "iperf3_retransmits": ("count", Direction.LOWER, MetricKind.OTHER),
        "iperf3_jitter_ms": ("ms", Direction.LOWER, MetricKind.TIME),
        "iperf3_loss_pct": ("%", Direction.LOWER, MetricKind.OTHER),
        "boot_s": ("s", Direction.LOWER, MetricKind.TIME),
        "kernel_boot_s": ("s", Direction.LOWER, MetricKind.TIME),
    }
    for name, (unit, direction, kind) in expected.items():
        metric = KNOWN_METRICS[name]
        assert (metric.unit, metric.direction, metric.kind) == (unit, direction, kind), name
    assert KNOWN_METRICS["boot_s"].title == "Boot time: QEMU start to workload start"
    assert KNOWN_METRICS["kernel_boot_s"].title == "Guest kernel boot: kernel start to /init"


def test_cli_imports_reports_and_help_teaches(tmp_path: Path, snpapp: SnpappRunner) -> None:
    out = tmp_path / "results.csv"
    logs = put(tmp_path / "logs", "iperf3/cvm-eval-snp-udp-p8-64.log").parent
    code, stdout, stderr = snpapp("import", str(logs), "-s", "sev_on", "-o", str(out))
    assert code == 0, stderr
    assert stdout == f"{out}\n"
    assert "iperf3-udp  iperf3_loss_pct: 1 row(s)" in stderr
    code, stdout, _ = snpapp("import", "--help")
    assert code == 0
    for text in ("fio_read_bw_kib_s", "fio_write_clat_p99_us", "json+", "iperf3_jitter_ms",
                 "iperf3_retransmits", "iperf3-udp-reverse", "[SUM]", "*.json"):  # fmt: skip
        assert text in stdout, text
