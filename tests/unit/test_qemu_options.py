"""Paths inside QEMU option lists: a comma in a directory name cannot split an option."""

from __future__ import annotations

from dataclasses import replace

from snpappliance.campaign.guests.cloud.qemuargs import CloudDrives, cloud_device_argv
from snpappliance.campaign.qemu import BootConfig, option_value, qemu_argv
from snpappliance.campaign.spec import Accel, ScenarioKind
from tests.factories import GENOA_SNP_BOOT


def _cfg(workload_file: str) -> BootConfig:
    return replace(
        GENOA_SNP_BOOT, accel=Accel.TCG, kind=ScenarioKind.PLAIN, workload_file=workload_file
    )


def test_option_values_double_every_comma() -> None:
    assert option_value("/c/a,b/r1.sh") == "/c/a,,b/r1.sh"
    assert option_value("plain") == "plain"


def test_the_fw_cfg_file_of_a_campaign_under_a_comma_path_is_escaped() -> None:
    argv = qemu_argv(_cfg("/tmp/x,y/work/r1.sh"))
    assert "name=opt/snp/cmd,file=/tmp/x,,y/work/r1.sh" in argv


def test_cloud_drives_under_a_comma_path_are_escaped() -> None:
    argv = cloud_device_argv(CloudDrives("/w,1/r1.qcow2", "/w,1/seed.iso", 22022))
    assert "file=/w,,1/r1.qcow2,if=none,id=disk0,format=qcow2" in argv
    assert "file=/w,,1/seed.iso,if=none,id=seed0,format=raw,readonly=on" in argv
