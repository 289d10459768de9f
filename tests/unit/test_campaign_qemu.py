"""QEMU command lines, guest scripts, console markers and verdicts (all pure)."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from snpappliance.campaign.boot import BootRecord, Outcome
from snpappliance.campaign.console import SNP_ACTIVE, parse_console
from snpappliance.campaign.hostinfo import cbitpos_from_ebx, cpu_facts, parse_cpuid_words
from snpappliance.campaign.judge import RunKind, judge_boot
from snpappliance.campaign.pinning import PinningPlan
from snpappliance.campaign.qemu import Pinned, qemu_argv
from snpappliance.campaign.scripts import workload_script
from snpappliance.campaign.spec import (
    Accel,
    FioJob,
    FioRw,
    FioWorkload,
    ScenarioKind,
    SysbenchCpu,
    SysbenchMemory,
)
from snpappliance.errors import GuestError, ParseError
from tests.factories import GENOA_SNP_BOOT, run_kind

FIXTURES = Path(__file__).parent.parent / "fixtures"

APPEND = "console=ttyS0 quiet panic=-1 snp.id=r0001-snp-on-sysbench-cpu-1 snp.timeout=600"
TAIL = (
    "-smp 8 -nodefaults -display none -no-reboot -serial stdio -kernel vmlinuz "
    f"-initrd initrd.gz -append '{APPEND}' -fw_cfg name=opt/snp/cmd,file=cmd.sh"
)

# snp-stack.md §1.6/§2.2: launch-qemu.sh and QEMU's amd-memory-encryption.rst.
SNP_ON = (
    "qemu-system-x86_64 -accel kvm -cpu EPYC-v4 "
    "-machine q35,confidential-guest-support=sev0,memory-backend=ram1 -m 8192M "
    "-object memory-backend-memfd,id=ram1,size=8192M,share=true,prealloc=false "
    "-object sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1 "
    f"-bios OVMF.fd {TAIL}"
)
SNP_OFF = (
    "qemu-system-x86_64 -accel kvm -cpu EPYC-v4 -machine q35,memory-backend=ram1 -m 8192M "
    "-object memory-backend-memfd,id=ram1,size=8192M,share=true,prealloc=false "
    f"-bios OVMF.fd {TAIL}"
)


def test_snp_on_command_line() -> None:
    assert shlex.join(qemu_argv(GENOA_SNP_BOOT)) == SNP_ON


def test_snp_off_is_snp_on_without_the_sev_snp_guest_object() -> None:
    argv = qemu_argv(replace(GENOA_SNP_BOOT, kind=ScenarioKind.SNP_LAYOUT))
    assert shlex.join(argv) == SNP_OFF
    assert "sev-snp-guest" not in SNP_OFF
    assert "confidential-guest-support" not in SNP_OFF


def test_local_baseline_is_plain_q35_without_firmware() -> None:
    cfg = replace(
        GENOA_SNP_BOOT,
        accel=Accel.TCG,
        kind=ScenarioKind.PLAIN,
        cpu=None,
        firmware=None,
        vcpus=2,
        memory_mib=1024,
        cbitpos=None,
    )
    argv = shlex.join(qemu_argv(cfg))
    assert argv.startswith("qemu-system-x86_64 -accel tcg -machine q35 -m 1024M -smp 2 ")
    assert "-bios" not in argv
    assert "memfd" not in argv


def test_snp_needs_cbitpos_and_layouts_need_firmware() -> None:
    with pytest.raises(ValueError, match="C-bit"):
        qemu_argv(replace(GENOA_SNP_BOOT, cbitpos=None))
    with pytest.raises(ValueError, match="OVMF"):
        qemu_argv(replace(GENOA_SNP_BOOT, kind=ScenarioKind.SNP_LAYOUT, firmware=None))


PINNED = Pinned(PinningPlan(1, (9, 10, 11, 12, 13, 14, 15, 16), (8,)), "/w/c1/qmp.sock")
#: What a pinned boot adds after -serial stdio: stopped, named threads, QMP on the host.
PINNED_OPTIONS = (
    "-serial stdio -name r0001-snp-on-sysbench-cpu-1,debug-threads=on -S "
    "-qmp unix:/w/c1/qmp.sock,server=on,wait=off -kernel"
)


def test_a_pinned_snp_boot_binds_the_memfd_backend_and_starts_stopped() -> None:
    argv = shlex.join(qemu_argv(replace(GENOA_SNP_BOOT, pinned=PINNED)))
    assert (
        argv.replace(",host-nodes=1,policy=bind", "").replace(
            PINNED_OPTIONS, "-serial stdio -kernel"
        )
        == SNP_ON
    )
    assert "size=8192M,share=true,prealloc=false,host-nodes=1,policy=bind " in argv
    assert PINNED_OPTIONS in argv


def test_a_pinned_snp_layout_boot_is_the_pinned_snp_boot_without_sev() -> None:
    cfg = replace(GENOA_SNP_BOOT, kind=ScenarioKind.SNP_LAYOUT, pinned=PINNED)
    argv = shlex.join(qemu_argv(cfg))
    assert (
        argv.replace(",host-nodes=1,policy=bind", "").replace(
            PINNED_OPTIONS, "-serial stdio -kernel"
        )
        == SNP_OFF
    )


def test_a_pinned_plain_boot_gets_a_bound_ram_backend() -> None:
    cfg = replace(GENOA_SNP_BOOT, kind=ScenarioKind.PLAIN, firmware=None, pinned=PINNED)
    argv = shlex.join(qemu_argv(cfg))
    assert (
        "-machine q35,memory-backend=ram1 -m 8192M "
        "-object memory-backend-ram,id=ram1,size=8192M,host-nodes=1,policy=bind -smp 8 "
    ) in argv
    assert PINNED_OPTIONS in argv
    unpinned = shlex.join(qemu_argv(replace(cfg, pinned=None)))
    assert "-machine q35 -m 8192M -smp 8 " in unpinned
    assert "-S" not in unpinned.split()
    assert "qmp" not in unpinned


def test_a_qmp_socket_path_too_long_for_a_socket_is_refused() -> None:
    long = Pinned(PINNED.plan, "/" + "d" * 100 + "/qmp.sock")
    with pytest.raises(ValueError, match="longer than 107 bytes"):
        qemu_argv(replace(GENOA_SNP_BOOT, pinned=long))


def test_workload_scripts() -> None:
    cpu = workload_script(SysbenchCpu(max_prime=20000, time_s=5), vcpus=8)
    assert cpu.splitlines()[0] == (
        "/usr/bin/time -f %e -o /tmp/snp-wall "
        "sysbench cpu --threads=8 --cpu-max-prime=20000 --time=5 run"
    )
    memory = workload_script(SysbenchMemory("1M", "10G"), vcpus=8)
    assert "sysbench memory --memory-block-size=1M --memory-total-size=10G run" in memory
    assert memory.endswith("echo ---SNP-WALL---\ncat /tmp/snp-wall\nexit $rc\n")


SYSBENCH_CPU = """sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)\r
Prime numbers limit: 20000\r
CPU speed:\r
    events per second:   291.42\r
General statistics:\r
    total time:                          5.0031s\r
"""


def console(run_id: str = "r1", evidence: str = "none", rc: int = 0, body: str = "") -> str:
    body = body or SYSBENCH_CPU + "---SNP-WALL---\r\n5.31\r\n"
    return (
        f"\x1b[2J\x1b[01;01HSNPGUEST-INIT id={run_id} uptime=3.9 nproc=2 mem_kb=1000\r\n"
        f"SNPGUEST-EVIDENCE {evidence}\r\n"
        f"===SNP-BEGIN id={run_id} src=fw_cfg uptime=4.0===\r\n{body}"
        f"===SNP-END id={run_id} rc={rc} uptime=9.4===\r\n"
        "===SNP-END id={run_id} rc=124 uptime=9.5===\r\n[    9.5] reboot: Power down\r\n"
    )


def boot(text: str, outcome: str = Outcome.EXITED) -> BootRecord:
    return BootRecord(text, outcome, 0, 1.0, 2.0, 8.0, 8.1)


def test_console_markers_after_ovmf_escapes() -> None:
    out = parse_console(console())
    assert (out.run_id, out.began, out.rc, out.evidence) == ("r1", True, 0, ())
    sysbench, wall = out.sections()
    assert "events per second:   291.42" in sysbench
    assert wall.strip() == "5.31"


def test_judge_ok() -> None:
    verdict = judge_boot(
        boot(console()), run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="x.log"
    )
    assert verdict.status == "ok"
    assert [(m.metric, m.value, m.unit, m.workload) for m in verdict.measurements] == [
        ("cpu_perf", 291.42, "events/s", "sysbench-cpu"),
        ("cpu_wall_s", 5.31, "s", "sysbench-cpu"),
        # Every run's boot: host seconds to BEGIN, and the kernel's uptime at /init.
        ("boot_s", 2.0, "s", "boot-1024mib"),
        ("kernel_boot_s", 3.9, "s", "boot-1024mib"),
    ]


def test_judge_keeps_fio_json_as_fio_printed_it() -> None:
    fio_json = (FIXTURES / "fio" / "two-jobs.json").read_text(encoding="utf-8")
    jobs = (FioJob("seq-read", FioRw.READ), FioJob("rand-write", FioRw.RANDWRITE))
    kind = RunKind(FioWorkload(jobs), "boot-1024mib", kernel_boot=True)
    body = fio_json.replace("\n", "\r\n")  # as the serial console carries it
    verdict = judge_boot(boot(console(body=body)), run_id="r1", kind=kind, expects_snp=False,
                         log="x")  # fmt: skip
    assert verdict.tool_json is not None
    tool, text = verdict.tool_json
    assert tool == "fio"
    assert json.loads(text) == json.loads(fio_json)
    sysbench = judge_boot(
        boot(console()), run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="x"
    )
    assert sysbench.tool_json is None


def test_judge_contradicting_evidence_is_invalid() -> None:
    snp_line = f"SEV: {SNP_ACTIVE}"
    on_without = judge_boot(
        boot(console()), run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=True, log="x"
    )
    off_with = judge_boot(
        boot(console(evidence=snp_line)),
        run_id="r1",
        kind=run_kind("sysbench-cpu"),
        expects_snp=False,
        log="x",
    )
    on_with = judge_boot(
        boot(console(evidence=snp_line)),
        run_id="r1",
        kind=run_kind("sysbench-cpu"),
        expects_snp=True,
        log="x",
    )
    assert (on_without.status, off_with.status, on_with.status) == ("invalid", "invalid", "ok")
    assert "is absent, must be present" in on_without.reason


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (boot("", Outcome.BOOT_TIMEOUT), "boot timeout"),
        (boot(console().split("===SNP-END")[0], Outcome.HANG), "hang"),
        (boot(console().split("===SNP-END")[0]), r"crash: QEMU exited \(status 0\)"),
        (boot(console(rc=124)), "watchdog"),
        (boot(console(rc=3)), "exited with status 3"),
        (boot(console(run_id="r9")), "belongs to guest"),
    ],
)
def test_judge_transient_failures(record: BootRecord, message: str) -> None:
    with pytest.raises(GuestError, match=message):
        judge_boot(record, run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="x")


def test_judge_garbage_is_a_parse_error() -> None:
    garbage = boot(console(body="garbage\r\n---SNP-WALL---\r\n5.31\r\n"))
    with pytest.raises(ParseError):
        judge_boot(garbage, run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="x")
    wrong = boot(console())
    with pytest.raises(ParseError, match="expected sysbench-memory"):
        judge_boot(wrong, run_id="r1", kind=run_kind("sysbench-memory"), expects_snp=False, log="x")


def test_cpuid_and_cpuinfo() -> None:
    words = parse_cpuid_words(" 0101fd3f 00004173 000001fd 00000080\n")
    assert cbitpos_from_ebx(words[1]) == 51
    with pytest.raises(ValueError, match="four"):
        parse_cpuid_words("")
    facts = cpu_facts(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9454 "
        "48-Core Processor\nmicrocode\t: 0xa101148\nflags\t: fpu sme sev sev_es "
        "sev_snp\n\nprocessor\t: 1\nmodel name\t: other\n"
    )
    assert facts == {
        "vendor_id": "AuthenticAMD",
        "model_name": "AMD EPYC 9454 48-Core Processor",
        "microcode": "0xa101148",
        "memory_encryption_flags": "sme sev sev_es sev_snp",
    }


def test_the_cloud_guest_has_no_kernel_boot_time() -> None:
    # Its INIT line comes from an SSH session long after the kernel booted.
    verdict = judge_boot(
        boot(console()),
        run_id="r1",
        kind=run_kind("sysbench-cpu", memory_mib=4096, kernel_boot=False),
        expects_snp=False,
        log="x.log",
    )
    assert [(m.metric, m.workload) for m in verdict.measurements][2:] == [
        ("boot_s", "boot-4096mib")
    ]
