"""fio and iperf3 run live here; their output goes through parse_fio / parse_iperf3.

The iperf3 server listens on a free loopback port the test picks; readiness is
polled in /proc/net/tcp (connecting to probe would use up the server's one
test). With CI=true a missing fio or iperf3 fails the test.
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.errors import ParseError
from snpappliance.workloads.fio import FIO_METRICS, parse_fio
from snpappliance.workloads.iperf3 import parse_iperf3
from tests.conftest import require_program, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

LOOPBACK = "127.0.0.1"
TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    """Whether a socket listens on 127.0.0.1:``port`` (state 0A in /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]
    return any(f" {local} " in line and line.split()[3] == "0A" for line in lines)


@dataclass(frozen=True)
class Server:
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        """The server's whole output, once it exited after its one test."""
        self.process.wait(timeout=TIMEOUT_S)
        return self.log.read_text(encoding="utf-8")


@pytest.fixture
def iperf3_server(tmp_path: Path) -> Iterator[Server]:
    """A one-test iperf3 server on a free loopback port; stopped at the end if still up."""
    iperf3 = require_program("iperf3")
    port = _free_port()
    log = tmp_path / "server.txt"
    argv = [iperf3, "-s", "-1", "-B", LOOPBACK, "-p", str(port)]
    with log.open("wb") as out, proc.spawn(argv, stdout=out, stderr=out) as server:
        wait_for(lambda: _listening(port) or server.poll() is not None, "iperf3 server start")
        assert server.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        yield Server(port, log, server)


@pytest.mark.parametrize("output_format", ["json", "json+"])
def test_fio_randrw_two_jobs_parse(tmp_path: Path, output_format: str) -> None:
    fio = require_program("fio")
    argv = [
        fio, f"--directory={tmp_path}", "--size=4M", "--bs=4k", "--ioengine=psync",
        "--runtime=1", "--time_based", f"--output-format={output_format}",
        "--name=mixed", "--rw=randrw", "--numjobs=2",
        "--name=reader", "--rw=read",
    ]  # fmt: skip
    result = proc.run(argv, timeout=TIMEOUT_S)
    found = parse_fio(result.stdout, source="fio stdout")
    by_job = {(m.workload, m.metric) for m in found}
    expected_reader = {("reader", m) for m in FIO_METRICS if m.startswith("fio_read_")}
    assert expected_reader <= by_job
    mixed = {metric for workload, metric in by_job if workload == "mixed"}
    plain = {"fio_read_bw_kib_s", "fio_read_iops", "fio_read_lat_mean_us",
             "fio_write_bw_kib_s", "fio_write_iops", "fio_write_lat_mean_us"}  # fmt: skip
    p99 = {"fio_read_clat_p99_us", "fio_write_clat_p99_us"}
    # numjobs=2 without group_reporting: p99 exactly only from json+ histograms
    assert mixed == (plain | p99 if output_format == "json+" else plain)
    assert all(m.value > 0 for m in found)


def test_fio_failing_job_is_a_parse_error(tmp_path: Path) -> None:
    fio = require_program("fio")
    argv = [fio, f"--directory={tmp_path}", "--name=unaligned", "--rw=read", "--bs=1000",
            "--size=1M", "--ioengine=libaio", "--direct=1", "--output-format=json"]  # fmt: skip
    result = proc.run(argv, timeout=TIMEOUT_S, check=False)
    assert result.returncode != 0
    with pytest.raises(ParseError, match=r"fio job 'unaligned' failed with error 22"):
        parse_fio(result.stdout, source="fio stdout")


@pytest.mark.parametrize(
    ("options", "workload", "metrics"),
    [
        (
            ["-P", "2"],
            "iperf3-tcp",
            ["iperf3_sender_mbit_s", "iperf3_receiver_mbit_s", "iperf3_retransmits"],
        ),
        (
            ["-R", "-J"],
            "iperf3-tcp-reverse",
            ["iperf3_sender_mbit_s", "iperf3_receiver_mbit_s", "iperf3_retransmits"],
        ),
        (
            ["-u", "-b", "20M", "-J"],
            "iperf3-udp",
            ["iperf3_receiver_mbit_s", "iperf3_jitter_ms", "iperf3_loss_pct"],
        ),
    ],
)
def test_iperf3_client_and_server_output_parse(
    iperf3_server: Server, options: list[str], workload: str, metrics: list[str]
) -> None:
    argv = ["iperf3", "-c", LOOPBACK, "-p", str(iperf3_server.port), "-t", "1", *options]
    client = proc.run(argv, timeout=TIMEOUT_S)
    found = parse_iperf3(client.stdout, source="iperf3 client")
    assert [(m.workload, m.metric) for m in found] == [(workload, m) for m in metrics]
    rates = [m.value for m in found if m.metric.endswith("_mbit_s")]
    assert rates
    assert all(rate > 0 for rate in rates)
    server = parse_iperf3(iperf3_server.output(), source="iperf3 server")  # its own side only
    side = "iperf3_sender_mbit_s" if "-R" in options else "iperf3_receiver_mbit_s"
    assert side in {m.metric for m in server}
    assert {m.workload for m in server} == {workload}
