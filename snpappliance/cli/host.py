"""``snpapp host show|tune|reset``: a host's noise-relevant settings, recorded and tuned."""

from __future__ import annotations

from typing import Annotated

import typer

from snpappliance.cli.options import SshConfigOption

HELP = """\
Show, tune and reset the host settings that decide how noisy a benchmark is.

`snpapp host show` prints what a campaign records in environment.json before
every run: the CPU frequency driver and governor, boost/turbo, SMT, C-state
limits, transparent hugepages, the kvm_amd parameters (and guest_memfd 2 MiB
support), the CPU vulnerability mitigations (SRSO, ...), the kernel command
line, the load, the CPU topology and NUMA nodes, and where interrupts may run.
Settings the host does not have are listed as absent. It ends with the
warnings a campaign prints for a host that is not tuned.

`snpapp host tune` applies the recommended settings (modelled on pyperf's
`system tune`): the performance governor, boost/turbo off, transparent
hugepages `madvise` (QEMU asks for huge pages for guest RAM; nothing else gets
them), and, with --cpus, interrupts moved off the CPUs the campaign pins vCPUs
to. C-states are left alone: it says what can be done at runtime. The previous
values are saved on the host first (/var/lib/snpapp/host-tune.json as root,
else ~/.cache/snpapp/host-tune.json); tuning again keeps the first saved
values. Needs root on the host, or passwordless sudo. The settings last until
reboot.

`snpapp host reset` writes the saved values back and deletes the file;
running it again does nothing.

Examples:

  snpapp host show --host genoa01
  snpapp host tune --host genoa01 --cpus 2-9 --dry-run
  snpapp host tune --host genoa01 --cpus 2-9
  snpapp host reset --host genoa01
"""

SHOW_HELP = """\
Print the host's state, what it lacks, and the warnings a campaign would print.

--cpus names the CPUs the campaign pins vCPUs to, so that interrupts allowed
on them are warned about. --json prints the state alone, as campaigns record it.

Examples:

  snpapp host show --host genoa01
  snpapp host show --host genoa01 --cpus 2-9 --json
"""
TUNE_HELP = """\
Apply the recommended settings, saving the previous values on the host first.

Writes the performance governor, boost/turbo off and transparent hugepages
`madvise` where the host has them (and says which it lacks), and with --cpus
moves interrupts off those CPUs. Tuning twice keeps the first saved values.

Examples:

  snpapp host tune --host genoa01 --cpus 2-9 --dry-run
  snpapp host tune --host genoa01 --cpus 2-9
"""
RESET_HELP = """\
Restore the settings saved by `snpapp host tune`; again, it does nothing.

Examples:

  snpapp host reset --host genoa01
"""

host_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)

HostOption = Annotated[
    str,
    typer.Option(
        "--host",
        "-H",
        metavar="HOST",
        help="SSH destination (an alias from your ssh config) or 'local'.",
    ),
]
CpusOption = Annotated[
    str | None,
    typer.Option(
        "--cpus",
        metavar="LIST",
        help="Host CPUs the campaign pins vCPUs to (e.g. 2-9): interrupts are moved off them.",
    ),
]


def _cpus(value: str | None) -> tuple[int, ...]:
    from snpappliance.tuning.cpulist import parse_cpulist

    if value is None:
        return ()
    try:
        return parse_cpulist(value)
    except ValueError as exc:
        msg = f"--cpus takes a CPU list such as 2-9,12, not {value!r}"
        raise typer.BadParameter(msg) from exc


@host_app.command("show", help=SHOW_HELP)
def show_cli(
    host: HostOption = "local",
    cpus: CpusOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the state as one JSON object (for scripts).")
    ] = False,
    ssh_config: SshConfigOption = None,
) -> None:
    from snpappliance.tuning.command import show

    show(host=host, ssh_config=ssh_config, isolate=_cpus(cpus), as_json=as_json)


@host_app.command("tune", help=TUNE_HELP)
def tune_cli(
    host: HostOption = "local",
    cpus: CpusOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; change nothing.")
    ] = False,
    ssh_config: SshConfigOption = None,
) -> None:
    from snpappliance.tuning.command import tune

    tune(host=host, ssh_config=ssh_config, isolate=_cpus(cpus), dry_run=dry_run)


@host_app.command("reset", help=RESET_HELP)
def reset_cli(host: HostOption = "local", ssh_config: SshConfigOption = None) -> None:
    from snpappliance.tuning.command import reset

    reset(host=host, ssh_config=ssh_config)
