"""A cloud boot under the real QEMU, up to where an image is needed.

No cloud image is reachable offline, so the base image here is an empty qcow2:
QEMU must accept the cloud guest's command line (disk, seed, forwarded SSH,
snp-layout machine with OVMF), the readiness probe must give up at the boot
deadline with the serial console in the log, and the run's overlay must be
gone afterwards. Booting Ubuntu itself needs the image (`[guest] image`).
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from snpappliance.campaign.boot import BootLimits, Outcome
from snpappliance.campaign.guests.cloud.assets import CloudGuest, stage_campaign
from snpappliance.campaign.guests.cloud.run import CloudRun, cloud_boot
from snpappliance.campaign.spec import Accel, ScenarioKind, SysbenchCpu
from snpappliance.hosts.local import LocalHost
from tests.conftest import require_file, require_program
from tests.factories import GENOA_SNP_BOOT

pytestmark = [pytest.mark.integration, pytest.mark.qemu]

OVMF = Path("/usr/share/ovmf/OVMF.fd")


def test_a_guest_without_ssh_times_out_and_leaves_no_overlay(tmp_path: Path) -> None:
    qemu = require_program("qemu-system-x86_64")
    qemu_img = require_program("qemu-img")
    require_program("genisoimage")
    require_file(OVMF, "ovmf")
    base = tmp_path / "base.qcow2"
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", str(base), "1G"], check=True)
    work = tmp_path / "work"
    files = stage_campaign(LocalHost(), work / "cloud", str(work / "cloud"), "t-cloud")
    cloud = CloudRun(CloudGuest(str(base), "0" * 64, str(base), qemu_img), files, str(work), 4)
    cfg = replace(
        GENOA_SNP_BOOT, qemu=qemu, accel=Accel.TCG, kind=ScenarioKind.SNP_LAYOUT, vcpus=1,
        memory_mib=256, kernel="", initrd="", workload_file="", run_id="r0001-off-sysbench-cpu-1",
        watchdog_s=60, cpu=None, firmware=str(OVMF), cbitpos=None,
    )  # fmt: skip
    log = tmp_path / "logs" / "r0001.log"
    record = cloud_boot(
        LocalHost(), cfg, cloud, SysbenchCpu(max_prime=100), log, BootLimits(8.0, 30.0)
    )
    assert record.outcome == Outcome.BOOT_TIMEOUT
    assert record.qemu_rc is None
    assert record.t_exit >= 8.0
    text = log.read_text()
    assert "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:" in text
    assert "boot-timeout" in text
    assert not (work / "r0001-off-sysbench-cpu-1.qcow2").exists()
    assert [p.name for p in work.iterdir()] == ["cloud"]
