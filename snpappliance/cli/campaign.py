"""``snpapp campaign``: run, resume, inspect and write benchmark campaign specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.campaign.profiles import DEFAULT_PROFILE, profile_names
from snpappliance.cli.app import app
from snpappliance.cli.options import SshConfigOption
from snpappliance.errors import UsageError
from snpappliance.formats.campaigndir import CAMPAIGNS_DIR
from snpappliance.formats.manifest import ARTIFACTS_DIR
from snpappliance.formats.release import GUEST_COMPONENT
from snpappliance.log import console

HELP = """\
Run a benchmark campaign: a fresh guest per run, every scenario against its baseline.

Every run boots a fresh guest with QEMU, runs one workload (sysbench cpu with
one thread per vCPU and --cpu-max-prime=20000, or sysbench memory with 1M
blocks), timed by /usr/bin/time -f %e, and powers it off. Runs are
interleaved (seeded, recorded) by default. A boot that times out, hangs,
crashes or prints garbage is retried with backoff; a run failing every attempt
is recorded as failed and the campaign goes on.

Without options the built-in `local` profile runs: the minimal guest
(`snpapp build guest`) under QEMU TCG, `baseline` (q35, plain RAM) against
`snp-layout` (q35 + memfd + OVMF: the SNP-on command line without the
sev-snp-guest object), 5 repetitions: 20 boots, 5-8 minutes on 2 cores. It is a
local emulated profile, labelled everywhere as not an SNP measurement.
The `genoa` profile is SNP off vs on on an EPYC host (20 repetitions), run
from the release `snpapp deploy --stack genoa-2025` installed there
(/opt/snpapp/current: QEMU, OVMF.fd, the guest); `snpapp doctor` runs first
and a host failing a required check is refused.

Everything goes to campaigns/<id>/: campaign.toml (the frozen spec),
campaign.json, environment.json, plan.json, attempts.jsonl,
logs/<run>.a<attempt>.log and results.csv (smoke.csv for declared PTS
smoke tests, kept out of the statistics), fsynced after every run. A killed
campaign loses at most the run in flight; --resume DIR runs only the missing
runs, reaching the hosts with the ssh client config the campaign started with
(recorded in campaign.json) unless --ssh-config names another. Ctrl-C stops
cleanly and prints how to resume.

Several --host values run the same plan on every host at once: one worker
per host, one guest per host at a time, run ids ending in @<host>, a `host`
column in results.csv and each host's facts in environment.json. Every host
is checked (doctor, artefacts) before anything boots. A host that fails or
stays unreachable stops alone; the others go on, and --resume later runs
what that host is missing. `snpapp report` then shows pooled and per-host
statistics.

Examples:

  snpapp campaign                          # the local profile
  snpapp campaign --reps 2                 # a quicker local demo (two repetitions)
  snpapp campaign --profile genoa --host genoa01
  snpapp campaign --profile genoa --ssh-config lab/ssh_config
  snpapp campaign --profile genoa --host genoa01 --host genoa02
  snpapp campaign --spec my.toml --max-failures 3
  snpapp campaign --resume campaigns/20261126-101500-local
  snpapp campaign status                   # the latest campaign
  snpapp campaign init my.toml && snpapp campaign validate my.toml
"""

campaign_app = typer.Typer(
    help=HELP, invoke_without_command=True, no_args_is_help=False, rich_markup_mode=None
)
app.add_typer(campaign_app, name="campaign")

CampaignsOption = Annotated[
    Path,
    typer.Option(
        "--campaigns", metavar="DIR", help="Directory that holds the campaign directories."
    ),
]


@campaign_app.callback()
def campaign_command(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            help=f"Built-in profile ({', '.join(profile_names())}) [default: {DEFAULT_PROFILE}]",
            show_default=False,
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            "-s",
            metavar="FILE",
            help="Your own spec file (see `snpapp campaign init`).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    reps: Annotated[
        int | None,
        typer.Option(
            "--reps",
            "-n",
            metavar="N",
            min=1,
            help="Repetitions per scenario and workload [default: the spec's]",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            metavar="HOST",
            help="`local` or an SSH host; repeat it to run the same campaign on several hosts "
            "at once, one guest per host at a time [default: the spec's host]",
            show_default=False,
        ),
    ] = None,
    max_failures: Annotated[
        int | None,
        typer.Option(
            "--max-failures",
            metavar="N",
            min=1,
            help="Abort once this many runs failed every attempt [default: never]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="N",
            min=0,
            help="Seed of the interleaved order [default: random]",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="DIR",
            help="Continue this campaign directory: run only missing runs.",
            file_okay=False,
        ),
    ] = None,
    verify_signature: Annotated[
        bool,
        typer.Option(
            "--verify-signature",
            help="Check every SNP run's attestation report signature against the VCEK "
            "certificate chain from AMD's key server (kdsintf.amd.com, cached in "
            "~/.cache/snpapp/kds); offline, runs are recorded 'signature not verified'.",
        ),
    ] = False,
    campaigns: CampaignsOption = CAMPAIGNS_DIR,
    artifacts: Annotated[
        Path,
        typer.Option(
            "--artifacts", metavar="DIR", help="Root of the built artefacts (<root>/<stack>/guest)."
        ),
    ] = ARTIFACTS_DIR,
    ssh_config: SshConfigOption = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    # The campaign stage loads only when a campaign runs, not for --help.
    from snpappliance.campaign.commands import resolve_spec, resume_campaign, run_campaign
    from snpappliance.campaign.prepare import guest_to_build

    if resume is not None:
        if profile or spec or reps or host or seed is not None or verify_signature:
            msg = "--resume continues a campaign exactly as planned"
            raise UsageError(
                msg,
                hint="drop --profile/--spec/--reps/--host/--seed/--verify-signature with --resume",
            )
        path = resume_campaign(
            directory=resume,
            artifacts_root=artifacts,
            max_failures=max_failures,
            ssh_config=ssh_config,
        )
    else:
        resolved = resolve_spec(
            profile=profile,
            spec_file=spec,
            reps=reps,
            host=host[0] if host else None,
            seed=seed,
            max_failures=max_failures,
        )
        names = list(host or ()) or [resolved.host]
        if guest_to_build(resolved, names, artifacts):
            _build_guest(resolved.stack, artifacts)
        path = run_campaign(
            spec=resolved,
            root=campaigns,
            artifacts_root=artifacts,
            ssh_config=ssh_config,
            hosts=host or (),
            verify_signature=verify_signature,
        )
    typer.echo(str(path))


def _build_guest(stack: str, artifacts: Path) -> None:
    from snpappliance.build.commands import build_components  # the Docker SDK only when needed

    console.print(
        f"the benchmark guest of stack {stack} is not built yet: building it now "
        f"(as `snpapp build guest --stack {stack}` would)"
    )
    build_components(stack, [GUEST_COMPONENT], artifacts_root=artifacts, mirror=None)


@campaign_app.command("status")
def status_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Campaign directory [default: the latest under --campaigns]",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    campaigns: CampaignsOption = CAMPAIGNS_DIR,
) -> None:
    """Show whether a campaign is running or finished, how many runs are done and what failed.

    Example: snpapp campaign status campaigns/20261126-101500-local
    """
    from snpappliance.campaign.status import campaign_status, latest_campaign_dir, render_status

    status = campaign_status(directory or latest_campaign_dir(campaigns))
    for line in render_status(status):
        typer.echo(line)  # stdout, never wrapped: `| grep state`, `| less` see it all


@campaign_app.command("init")
def init_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write the spec [default: print it]", show_default=False, dir_okay=False
        ),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", "-p", metavar="NAME", help="Built-in profile to start from.")
    ] = DEFAULT_PROFILE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a commented campaign spec to start from (the `local` profile by default).

    Example: snpapp campaign init my.toml --profile genoa
    """
    from snpappliance.campaign.commands import write_spec_template

    text = write_spec_template(target=file, profile=profile, force=force)
    if file is None:
        typer.echo(text, nl=False)
    else:
        console.print(f"wrote {file}; check it with `snpapp campaign validate {file}`")


@campaign_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="The spec file to check.", dir_okay=False)],
) -> None:
    """Check a spec: every unknown key or bad value is named with its TOML path.

    Example: snpapp campaign validate my.toml
    """
    from snpappliance.campaign.spec import load_spec

    spec = load_spec(file)
    runs = len(spec.scenarios) * len(spec.run_workloads) * spec.repetitions
    smoke = len(spec.workloads) > len(spec.statistical_workloads)
    extra = f" + {len(spec.scenarios)} PTS smoke runs (not in the statistics)" if smoke else ""
    console.print(
        f"{file}: valid — {len(spec.scenarios)} scenarios (baseline {spec.baseline.name}), "
        f"{len(spec.run_workloads)} workloads, {spec.repetitions} repetitions = {runs} runs{extra} "
        f"on host {spec.host}"
    )
