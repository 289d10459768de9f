"""``snpapp deploy``: install a built release on a host over SSH."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.cli.app import app
from snpappliance.cli.options import PrefixOption, SshConfigOption
from snpappliance.deploy.system import SystemMode
from snpappliance.formats.manifest import ARTIFACTS_DIR
from snpappliance.formats.names import DEFAULT_STACK
from snpappliance.formats.release import DEFAULT_PREFIX

HELP = f"""\
Install the built artefacts of a stack on a host, atomically and verified.

Every file of ARTIFACTS/<stack>/<component>/ is checked against its
manifest.json here, uploaded with rsync over your ssh (resumable: run the
command again after an interruption) into a staging directory, verified with
sha256sum on the host, and renamed to PREFIX/releases/<stack>-<hash>/. QEMU's
install tarball is unpacked there; OVMF.fd, the SVSM files and the benchmark
guest (`snpapp build guest --stack <stack>`) sit in it as built: campaigns
(the genoa profile) run from PREFIX/current/ (its qemu, ovmf and guest). Then
the host kernel .deb is installed with dpkg, selected for the next
boot only (grub-reboot; a host with no saved GRUB default first gets its
running kernel as the default, the one later boots fall back to),
`options kvm_amd sev=1 sev_es=1 sev_snp=1` goes to /etc/modprobe.d, and
PREFIX/current switches to the new release (the old one becomes
PREFIX/previous). Until that switch, the previous release stays in use.

--reboot then reboots, waits until the host answers with the new kernel, runs
`snpapp doctor`, and only then makes the kernel the GRUB default.

--rollback makes PREFIX/previous current again and, when that release has a
host kernel, makes its kernel the GRUB default (grub-set-default); the host
runs it from the next boot (--reboot reboots now and waits for it). With
--dry-run it reads the host's links to print what it would do.
--system-steps check validates the system-changing commands (dpkg, modprobe.d,
GRUB, reboot) without running them.

Applying the system steps needs root. Log in as root, or pass --sudo to log in
as a normal user with passwordless sudo: those commands (and only those, and
their checks) then run as `sudo -n -- <command>`; deploy first checks that
`sudo -n true` works. The upload is not run through sudo, so that user must be
able to write PREFIX: pass a --prefix they own, or create it once, for example
`ssh genoa01 sudo install -d -o $USER /opt/snpapp`.

Examples:

  snpapp deploy --host genoa01 --dry-run        # print every step and command

  snpapp deploy --host genoa01 --reboot         # deploy, boot the kernel, verify

  snpapp deploy --host genoa01 --rollback       # current := previous release

  snpapp deploy --host genoa01 --sudo           # a sudo user instead of root

  snpapp deploy --host genoa01 --system-steps check --prefix /tmp/snpapp-try

Defaults: --stack {DEFAULT_STACK}, --artifacts artifacts, --prefix {DEFAULT_PREFIX}.
"""


@app.command("deploy", help=HELP)
def deploy_cli(
    host: Annotated[
        str,
        typer.Option(
            "--host", "-H", metavar="HOST", help="SSH destination (an alias from your ssh config)."
        ),
    ],
    stack: Annotated[
        str, typer.Option("--stack", "-s", metavar="NAME", help="Stack to deploy.")
    ] = DEFAULT_STACK,
    artifacts: Annotated[
        Path, typer.Option("--artifacts", metavar="DIR", help="Where `snpapp build` put them.")
    ] = ARTIFACTS_DIR,
    prefix: PrefixOption = DEFAULT_PREFIX,
    reboot: Annotated[
        bool, typer.Option("--reboot", help="Boot the deployed kernel and confirm it with doctor.")
    ] = False,
    do_rollback: Annotated[
        bool,
        typer.Option(
            "--rollback",
            help="Make the previous release current again, and its kernel the boot default.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every step and command; change nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Deploy to a host that does not fit; replace a damaged release."
        ),
    ] = False,
    system_steps: Annotated[
        SystemMode,
        typer.Option(
            "--system-steps",
            help="apply: install the kernel and boot settings; check: only validate them.",
        ),
    ] = SystemMode.APPLY,
    reboot_timeout: Annotated[
        float,
        typer.Option(
            "--reboot-timeout", metavar="SECONDS", help="Seconds to wait for the host to come back."
        ),
    ] = 900,
    bwlimit: Annotated[
        int | None, typer.Option("--bwlimit", metavar="KIB", help="Cap the upload at KiB/s.")
    ] = None,
    sudo: Annotated[
        bool,
        typer.Option(
            "--sudo",
            help="Run the system-changing commands as `sudo -n -- <command>` (an SSH user "
            "with passwordless sudo instead of root).",
        ),
    ] = False,
    ssh_config: SshConfigOption = None,
) -> None:
    from snpappliance.deploy.commands import deploy, rollback

    if do_rollback:
        rollback(
            host=host, prefix=prefix, ssh_config=ssh_config, system_mode=system_steps,
            reboot=reboot, reboot_timeout_s=reboot_timeout, dry_run=dry_run, sudo=sudo,
        )  # fmt: skip
        return
    deploy(
        host=host, stack=stack, artifacts_root=artifacts, prefix=prefix, ssh_config=ssh_config,
        system_mode=system_steps, reboot=reboot, reboot_timeout_s=reboot_timeout,
        dry_run=dry_run, force=force, bwlimit_kib=bwlimit, sudo=sudo,
    )  # fmt: skip
