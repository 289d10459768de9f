"""Values that tests and benchmarks would otherwise spell out again and again.

Each is complete, valid and frozen, and reads like a real one. A test states
only what matters to it with ``dataclasses.replace(VALUE, field=...)``, which
mypy checks field by field.
"""

from __future__ import annotations

from pathlib import Path

from snpappliance.attestation.nonce import RunNonce
from snpappliance.attestation.report import parse_report
from snpappliance.campaign.judge import RunKind
from snpappliance.campaign.qemu import BootConfig
from snpappliance.campaign.spec import (
    Accel,
    PtsSmoke,
    ScenarioKind,
    SysbenchCpu,
    SysbenchMemory,
    Workload,
    boot_workload,
)

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


def run_kind(workload: str, *, memory_mib: int = 1024, kernel_boot: bool = True) -> RunKind:
    """What a run of the built-in workload ``workload`` is judged by (default settings)."""
    workloads: dict[str, Workload] = {
        "sysbench-cpu": SysbenchCpu(),
        "sysbench-memory": SysbenchMemory(),
        "pts": PtsSmoke(),
    }
    return RunKind(workloads[workload], boot_workload(memory_mib), kernel_boot=kernel_boot)


#: Published attestation material (sources in the folder's README).
ATTESTATION_FIXTURES = Path(__file__).parent / "fixtures" / "attestation"
#: A real Milan ATTESTATION_REPORT, as published by virtee/sev.
MILAN_REPORT_RAW = bytes.fromhex(
    (ATTESTATION_FIXTURES / "virtee-sev-report_milan.hex").read_text(encoding="ascii").strip()
)
MILAN_REPORT = parse_report(MILAN_REPORT_RAW)
#: That report's REPORT_DATA, standing in for the nonce the run would have sent.
MILAN_NONCE = RunNonce("c", "r", b"", MILAN_REPORT.report_data)


def console_around(line: str) -> str:
    """Run r's console as the guest prints it, with ``line`` among its workload's output."""
    return (
        "SNPGUEST-INIT id=r uptime=1.0 nproc=1 mem_kb=1\r\n"
        "===SNP-BEGIN id=r src=fw_cfg uptime=1.1===\r\n"
        f"{line}\r\n"
        "workload output\r\n"
        "===SNP-END id=r rc=0 uptime=2.0===\r\n"
    )
