"""Values that tests and benchmarks would otherwise spell out again and again.

Each is complete, valid and frozen, and reads like a real one. A test states
only what matters to it with ``dataclasses.replace(VALUE, field=...)``, which
mypy checks field by field.
"""

from __future__ import annotations

from snpappliance.campaign.qemu import BootConfig
from snpappliance.campaign.spec import Accel, ScenarioKind

#: One SNP guest boot on an AMD Genoa host: KVM, 8 vCPUs, 8 GiB, EPYC-v4, C-bit 51.
GENOA_SNP_BOOT = BootConfig(
    qemu="qemu-system-x86_64",
    accel=Accel.KVM,
    kind=ScenarioKind.SNP,
    vcpus=8,
    memory_mib=8192,
    kernel="vmlinuz",
    initrd="initrd.gz",
    workload_file="cmd.sh",
    run_id="r0001-snp-on-sysbench-cpu-1",
    watchdog_s=600,
    cpu="EPYC-v4",
    firmware="OVMF.fd",
    cbitpos=51,
)
