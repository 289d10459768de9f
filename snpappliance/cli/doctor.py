"""``snpapp doctor``: SEV-SNP preflight of a host."""

from __future__ import annotations

from typing import Annotated

import typer

from snpappliance.cli.app import app
from snpappliance.cli.options import PrefixOption, SshConfigOption
from snpappliance.formats.release import DEFAULT_PREFIX

HELP = f"""\
Check that a host can run SEV-SNP guests with the deployed snpapp release.

Each check prints PASS, WARN or FAIL with what it saw and what to do: AMD EPYC
Genoa CPU, bare metal, the sev/sev_es/sev_snp CPU flags, kvm_amd's sev, sev_es
and sev_snp parameters, the kernel log lines of a working SNP host (and the
known failure lines), SNP firmware >= 1.51, /dev/sev and /dev/kvm, IOMMU not in
passthrough, the memlock limit, and the deployed release (files match their
SHA-256 sums; QEMU, OVMF.fd and the host kernel present; the running kernel is
the deployed one).

Exits with status 12 when a required check fails. Reading the kernel log may
need root on the host.

Examples:

  snpapp doctor                      # this machine

  snpapp doctor --host genoa01       # over SSH, as `ssh genoa01` would connect

  snpapp doctor --host genoa01 --json | jq '.checks[] | select(.status=="fail")'

Default release prefix: {DEFAULT_PREFIX}.
"""


@app.command("doctor", help=HELP)
def doctor_cli(
    host: Annotated[
        str,
        typer.Option(
            "--host", "-H", help="SSH destination (an alias from your ssh config) or 'local'."
        ),
    ] = "local",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout (for scripts).")
    ] = False,
    ssh_config: SshConfigOption = None,
    prefix: PrefixOption = DEFAULT_PREFIX,
) -> None:
    from snpappliance.doctor.command import doctor

    doctor(host=host, ssh_config=ssh_config, prefix=prefix, as_json=as_json)
