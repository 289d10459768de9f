"""fio, iperf3 and boot workloads: their spec tables, plan, guest scripts and QEMU devices."""

from __future__ import annotations

import shlex

import pytest

from snpappliance.campaign.iodevices import (
    FIO_SERIAL,
    GUEST_MAC,
    disk_create_argv,
    fio_device_argv,
    iperf3_server_argv,
    net_device_argv,
)
from snpappliance.campaign.plan import plan_runs
from snpappliance.campaign.qemu import BootConfig, qemu_argv
from snpappliance.campaign.scripts import fio_command, guest_packages, workload_script
from snpappliance.campaign.spec import (
    Accel,
    BootSweep,
    FioRw,
    FioWorkload,
    Iperf3Workload,
    IperfDirection,
    IperfProtocol,
    NetworkKind,
    ScenarioKind,
    parse_spec,
    planned_runs,
    size_bytes,
)
from snpappliance.campaign.specdump import dump_spec, spec_template
from snpappliance.errors import ConfigError
from snpappliance.toml import parse_toml

HEAD = """
[campaign]
name = "io"
repetitions = 2
[[scenarios]]
name = "off"
kind = "plain"
baseline = true
[[scenarios]]
name = "on"
kind = "snp-layout"
"""

FIO = """
[workloads.fio]
disk_size = "512M"
disk_format = "qcow2"
[[workloads.fio.jobs]]
name = "randread-4k"
rw = "randread"
iodepth = 16
size = "256M"
runtime_s = 5
[[workloads.fio.jobs]]
name = "seqwrite-1m"
rw = "write"
bs = "1M"
runtime_s = 5
ioengine = "psync"
"""

IPERF = """
[workloads.iperf3]
protocol = "udp"
streams = 2
duration_s = 5
bitrate = "100M"
direction = "host-to-guest"
"""

BOOT = """
[workloads.boot]
memory_mib = [512, 2048]
"""


def _spec(text: str) -> object:
    return parse_spec(HEAD + text, source="spec.toml")


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_spec(HEAD + text, source="spec.toml")
    return info.value.message


def test_tables_load_and_round_trip() -> None:
    spec = parse_spec(HEAD + FIO + IPERF + BOOT, source="spec.toml")
    fio = spec.workload("fio")
    assert isinstance(fio, FioWorkload)
    assert [(j.name, j.rw, j.bs, j.iodepth) for j in fio.jobs] == [
        ("randread-4k", FioRw.RANDREAD, "4k", 16),
        ("seqwrite-1m", FioRw.WRITE, "1M", 1),
    ]
    iperf = spec.workload("iperf3")
    assert isinstance(iperf, Iperf3Workload)
    assert iperf.protocol is IperfProtocol.UDP
    assert iperf.direction is IperfDirection.HOST_TO_GUEST
    assert spec.run_workloads == ("fio", "iperf3", "boot-512mib", "boot-2048mib")
    assert isinstance(spec.workload("boot-2048mib"), BootSweep)
    assert spec.memory_mib("boot-2048mib") == 2048
    assert spec.memory_mib("fio") == spec.guest.memory_mib
    assert parse_spec(dump_spec(spec), source="dump") == spec


def test_plan_has_a_run_per_memory_size() -> None:
    spec = parse_spec(HEAD + BOOT + "[workloads.sysbench-cpu]\n", source="spec.toml")
    runs = plan_runs(spec, seed=1)
    assert len(runs) == planned_runs(spec) == 2 * 3 * 2
    assert {r.workload for r in runs} == {"sysbench-cpu", "boot-512mib", "boot-2048mib"}


def test_template_documents_fio_jobs() -> None:
    spec = parse_spec(HEAD + FIO, source="spec.toml")
    raw = parse_toml(HEAD + FIO, "spec.toml")
    text = spec_template(spec, raw, [])
    assert "[[workloads.fio.jobs]]" in text
    assert 'name = "seqwrite-1m"' in text
    assert "# [workloads.iperf3]" in text
    assert "# memory_mib = [2048, 8192, 32768]" in text


@pytest.mark.parametrize(
    ("text", "path", "problem"),
    [
        (FIO.replace('size = "256M"', 'size = "1G"'), "workloads.fio.jobs[0].size", "fit"),
        (FIO.replace('"seqwrite-1m"', '"randread-4k"'), "jobs[1].name", "another"),
        (FIO.replace('"seqwrite-1m"', '"boot-1024mib"'), "jobs[1].name", "another"),
        (FIO.replace('rw = "write"', 'rw = "trim"'), "jobs[1].rw", "one of"),
        (FIO.replace('"psync"', '"spdk"'), "jobs[1].ioengine", "one of"),
        (FIO.replace("runtime_s = 5\nioengine", "runtime_s = 600\nioengine"), "jobs", "watchdog"),
        ("[workloads.fio]\n", "workloads.fio.jobs", "required"),
        (IPERF.replace('"udp"', '"sctp"'), "workloads.iperf3.protocol", "one of"),
        (IPERF + 'network = "bridge"\n', "workloads.iperf3.bridge", "required"),
        (IPERF + 'bridge = "br0"\n', "workloads.iperf3.bridge", "applies only"),
        (IPERF.replace('"100M"', '"fast"'), "workloads.iperf3.bitrate", "bitrate"),
        (BOOT.replace("[512, 2048]", "[]"), "workloads.boot.memory_mib", "no memory"),
        (BOOT.replace("[512, 2048]", "[512, 512]"), "workloads.boot.memory_mib", "repeated"),
        (BOOT.replace("[512, 2048]", "[64]"), "workloads.boot.memory_mib", "at least 128"),
    ],
)
def test_bad_tables_are_named(text: str, path: str, problem: str) -> None:
    message = _error(text)
    assert path in message
    assert problem in message


def test_bridge_needs_its_addresses() -> None:
    bridged = (
        IPERF
        + 'network = "bridge"\nbridge = "br0"\nhost_address = "192.168.100.1"\n'
        + 'guest_address = "192.168.100.2/24"\n'
    )
    spec = parse_spec(HEAD + bridged, source="spec.toml")
    iperf = spec.workload("iperf3")
    assert isinstance(iperf, Iperf3Workload)
    assert iperf.network is NetworkKind.BRIDGE
    assert net_device_argv(iperf)[1] == "bridge,id=iperf0,br=br0"
    assert "-B" in iperf3_server_argv(iperf)
    assert iperf3_server_argv(iperf)[iperf3_server_argv(iperf).index("-B") + 1] == "192.168.100.1"
    assert "ip addr add 192.168.100.2/24" in workload_script(iperf, vcpus=1)


def test_fio_script_finds_its_disk_and_runs_every_job() -> None:
    spec = parse_spec(HEAD + FIO, source="spec.toml")
    fio = spec.workload("fio")
    assert isinstance(fio, FioWorkload)
    script = workload_script(fio, vcpus=2)
    assert f"= {FIO_SERIAL} ]" in script
    fio_line = next(line for line in script.splitlines() if " fio " in f" {line} ")
    argv = shlex.split(fio_line.replace('"--filename=$dev"', "--filename=/dev/vdb"))
    assert argv[:2] == ["$ROOT", "fio"]
    assert argv[1:] == fio_command(fio, "/dev/vdb")
    assert argv.count("--stonewall") == 1
    assert "--output-format=json" in argv
    assert "--direct=1" in argv


def test_iperf3_script_and_server_meet_on_user_networking() -> None:
    spec = parse_spec(HEAD + IPERF, source="spec.toml")
    iperf = spec.workload("iperf3")
    assert isinstance(iperf, Iperf3Workload)
    script = workload_script(iperf, vcpus=1)
    assert GUEST_MAC in script
    client = shlex.split(script.strip().splitlines()[-1])
    assert client[:3] == ["iperf3", "-c", "10.0.2.2"]
    assert {"-u", "-R", "-J"} <= set(client)
    assert client[client.index("-b") + 1] == "100M"
    assert client[client.index("-P") + 1] == "2"
    server = iperf3_server_argv(iperf)
    assert server[:3] == ["iperf3", "-s", "-1"]
    assert server[server.index("-B") + 1] == "127.0.0.1"
    assert server[server.index("-p") + 1] == client[client.index("-p") + 1] == "5201"


def test_devices_are_virtio_with_access_platform() -> None:
    spec = parse_spec(HEAD + FIO + IPERF, source="spec.toml")
    fio = spec.workload("fio")
    iperf = spec.workload("iperf3")
    assert isinstance(fio, FioWorkload)
    assert isinstance(iperf, Iperf3Workload)
    disk = fio_device_argv(fio, "/srv/a,b/r1-fio.qcow2")
    assert disk[1] == "file=/srv/a,,b/r1-fio.qcow2,if=none,id=fio0,format=qcow2,cache=none"
    assert f"serial={FIO_SERIAL}" in disk[3]
    for argv in (disk, net_device_argv(iperf)):
        assert "disable-legacy=on,iommu_platform=on" in argv[3]
    assert disk_create_argv("qemu-img", fio, "/srv/x.qcow2") == [
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        "preallocation=full",
        "/srv/x.qcow2",
        "512M",
    ]
    cfg = BootConfig(
        qemu="qemu-system-x86_64",
        accel=Accel.TCG,
        kind=ScenarioKind.PLAIN,
        vcpus=1,
        memory_mib=512,
        kernel="k",
        initrd="i",
        workload_file="w",
        run_id="r1",
        watchdog_s=10,
        devices=tuple(disk),
    )
    line = qemu_argv(cfg)
    assert line[line.index("-serial") + 2 : line.index("-serial") + 6] == tuple(disk)


def test_boot_sweep_runs_nothing_and_cloud_packages_follow_the_workloads() -> None:
    spec = parse_spec(HEAD + FIO + IPERF + BOOT, source="spec.toml")
    assert workload_script(spec.workload("boot-512mib"), vcpus=1) == "exit 0\n"
    assert guest_packages(spec) == ("fio", "iperf3")


def test_sizes() -> None:
    assert size_bytes("4k") == 4096
    assert size_bytes("256M") == 256 << 20
    assert size_bytes("1G") == 1 << 30
    assert size_bytes("512") == 512
