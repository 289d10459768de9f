"""``snpapp doctor``: SEV-SNP preflight of a host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.cli.app import app
from snpappliance.cli.options import PrefixOption, SshConfigOption
from snpappliance.formats.release import DEFAULT_PREFIX

HELP = f"""\
Check that a host can run SEV-SNP guests, and name why not.

Checks (PASS, WARN, FAIL or UNKNOWN, each with what it saw and what to do): an
SNP-capable AMD EPYC (Milan, Genoa, Bergamo/Siena, Turin), bare metal, the
sev/sev_es/sev_snp CPU flags, CPUID 0x8000001F and the SYSCFG/RMP MSRs (when
/dev/cpu/0/cpuid and /dev/cpu/0/msr are readable: `modprobe cpuid msr`, root),
kvm_amd's parameters, the kernel's SNP initialisation lines (every `ok`-style
check can pass on a host where SNP_INIT failed), SEV firmware >= 1.51 and the
AMD-SB-3015/3019 floors, /dev/sev and /dev/kvm, the IOMMU, the RMP table,
memlock, and the deployed release.

The diagnosis names each cause found, with the lines that show it and the fix,
from this vocabulary: not-amd-epyc, virtual-machine, snp-guest-not-host,
snp-cpuid-missing, snp-disabled-in-msr, rmp-not-reserved, rmp-coverage-partial,
iommu-passthrough, firmware-too-old, psp-timeout, snp-init-failed,
sev-init-failed, smt-disabled, no-snp-asids, kvm-snp-off, msr-unreadable,
guest-memfd-mismatch, no-snp-evidence. A working host has none.

--from PATH diagnoses captured output instead of a live host: a file, a
directory or a --collect bundle holding any mix of dmesg / journalctl -k (or a
grep of them, pasted with prompts or not), /proc/cpuinfo or lscpu, /proc/cmdline, the
kvm_amd parameters, `snphost ok` / `sevctl ok` output and a `cpuid -r` dump.
Facts that are not there are UNKNOWN, never FAIL.

--collect OUT.tar.gz gathers everything doctor reads from the host into one
bundle to send to whoever helps; `--from OUT.tar.gz` gives the same verdict.

Output goes to stdout (--json: {{"host", "ok": true|false|null, "checks",
"diagnosis"}}; ok is null when nothing failed but readiness is unproven).
Exits with status 12 when a required check fails.

Examples:

  snpapp doctor                      # this machine
  snpapp doctor --host genoa01       # over SSH, as `ssh genoa01` would connect
  snpapp doctor --from dmesg.txt     # someone's pasted kernel log
  snpapp doctor --host genoa01 --collect genoa01.tar.gz
  snpapp doctor --host genoa01 --json | jq '.diagnosis[].cause'

Default release prefix: {DEFAULT_PREFIX}.
"""


@app.command("doctor", help=HELP)
def doctor_cli(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            "-H",
            metavar="HOST",
            help="SSH destination (an alias from your ssh config) or 'local'.",
        ),
    ] = "local",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout (for scripts).")
    ] = False,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="PATH",
            help="Diagnose captured host output (file, directory or --collect bundle).",
        ),
    ] = None,
    collect_to: Annotated[
        Path | None,
        typer.Option(
            "--collect",
            metavar="OUT.tar.gz",
            help="Write the host's doctor facts to this bundle instead of checking them.",
        ),
    ] = None,
    ssh_config: SshConfigOption = None,
    prefix: PrefixOption = DEFAULT_PREFIX,
) -> None:
    from snpappliance.doctor.command import doctor

    if source is not None and (collect_to is not None or host != "local"):
        msg = "--from reads a capture: it takes neither --host nor --collect"
        raise typer.BadParameter(msg)
    doctor(
        host=host, ssh_config=ssh_config, prefix=prefix, as_json=as_json, source=source,
        collect_to=collect_to,
    )  # fmt: skip
