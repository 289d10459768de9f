"""What ``snpapp campaign`` does: run, resume and write specs (the CLI's entry points)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.campaign.plan import check_hosts
from snpappliance.campaign.profiles import DEFAULT_PROFILE, profile_header, profile_path
from snpappliance.campaign.runner import (
    campaign_hosts,
    create_campaign_on,
    execute_on,
    load_campaign,
    prepare_targets,
    recorded_ssh_config,
    remember_ssh_config,
    resume_changes,
)
from snpappliance.campaign.spec import CampaignSpec, check_run_count, load_spec, with_overrides
from snpappliance.campaign.specdump import spec_template
from snpappliance.campaign.status import campaign_status
from snpappliance.errors import CampaignError, OutputError
from snpappliance.hosts.connect import connect
from snpappliance.log import console
from snpappliance.toml import read_toml

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.formats.campaigndir import CampaignDir
    from snpappliance.hosts.base import Host


#: Where `snpapp report DIR` puts a campaign's PDF by default (its --out is DIR/report).
REPORT_PDF = Path("report") / "report.pdf"


def completion_note(directory: Path) -> str | None:
    """What to say when every planned run of the campaign in ``directory`` is committed.

    None while runs are missing or a runner is still at it: --resume then has work.
    """
    status = campaign_status(directory)
    if status.state != "finished":
        return None
    note = (
        f"campaign {directory.name} is already complete ({status.done}/{status.planned} runs "
        "committed): nothing to resume"
    )
    pdf = directory / REPORT_PDF
    if pdf.is_file():
        return f"{note}; its report: {pdf} (render it again with `snpapp report {directory}`)"
    return f"{note}; make its report with `snpapp report {directory}`"


def make_host(name: str, *, ssh_config: Path | None = None) -> Host:
    """``local`` is this machine; any other name is an SSH destination.

    ``ssh_config`` (or ``$SNPAPP_SSH_CONFIG``) selects another ssh client config.
    """
    return connect(name, ssh_config=ssh_config)


def resolve_spec(
    *,
    profile: str | None = None,
    spec_file: Path | None = None,
    reps: int | None = None,
    host: str | None = None,
    seed: int | None = None,
    max_failures: int | None = None,
) -> CampaignSpec:
    """The spec of a built-in profile or a file, with command-line overrides applied."""
    if profile and spec_file:
        msg = "choose either --profile or --spec, not both"
        raise CampaignError(
            msg,
            hint="--spec FILE runs your own spec; --profile NAME a built-in one",
        )
    spec = load_spec(spec_file or profile_path(profile or DEFAULT_PROFILE))
    options = (
        ("--reps", "repetitions", reps),
        ("--host", "host", host),
        ("--seed", "seed", seed),
        ("--max-failures", "max_failures", max_failures),
    )
    for option, key, value in options:
        if value is not None:
            spec = with_overrides(spec, {key: value}, source=option)
    return spec


def run_campaign(
    *,
    spec: CampaignSpec,
    root: Path,
    artifacts_root: Path,
    ssh_config: Path | None = None,
    hosts: Sequence[str] = (),
    verify_signature: bool = False,
) -> Path:
    """Start a new campaign of ``spec`` under ``root``; return its directory.

    ``hosts`` (default: the spec's host) run the same plan, one worker per host;
    ``verify_signature`` checks SNP reports' signatures with AMD's key server.
    """
    names = list(hosts) or [spec.host]
    check_hosts(names)
    check_run_count(spec, source="--host", hosts=len(names))
    with contextlib.ExitStack() as hosts_open:
        connected = [
            hosts_open.enter_context(make_host(name, ssh_config=ssh_config)) for name in names
        ]
        cdir, targets = create_campaign_on(
            spec,
            connected,
            root=root,
            artifacts_root=artifacts_root,
            verify_signature=verify_signature,
        )
        execute_on(cdir, spec, targets)
    return cdir.path


def resume_campaign(
    *,
    directory: Path,
    artifacts_root: Path,
    max_failures: int | None = None,
    ssh_config: Path | None = None,
) -> Path:
    """Run the missing runs of the campaign in ``directory``, in planned order, on its hosts.

    The hosts are reached with the ssh client config the campaign recorded,
    unless ``ssh_config`` names another one (which is then recorded instead).
    A campaign with no run missing is left as it is, and the user told where its report is.
    """
    note = completion_note(directory)
    if note is not None:
        console.print(note, markup=False, highlight=False, soft_wrap=True)
        return directory
    cdir, spec = load_campaign(directory)
    config = ssh_config or recorded_ssh_config(cdir)
    with contextlib.ExitStack() as hosts_open:
        connected = [
            hosts_open.enter_context(make_host(name, ssh_config=config))
            for name in campaign_hosts(cdir, spec)
        ]
        remember_ssh_config(cdir, connected)
        _resume(cdir, spec, connected, artifacts_root, max_failures)
    return cdir.path


def _resume(
    cdir: CampaignDir,
    spec: CampaignSpec,
    hosts: Sequence[Host],
    artifacts_root: Path,
    max_failures: int | None,
) -> None:
    targets = prepare_targets(spec, hosts, artifacts_root)
    recorded = json.loads(cdir.environment.read_text(encoding="utf-8"))
    for target in targets:
        pinning = target.prepared.pinning
        changes = resume_changes(
            recorded,
            target.host.name,
            digest=target.prepared.guest.manifest.digest,
            pinning=None if pinning is None else pinning.to_json(),
        )
        if changes:
            msg = (
                f"host {target.host.name} changed since campaign {cdir.campaign_id} started: "
                + "; ".join(changes)
            )
            raise CampaignError(
                msg,
                hint="resume with the same build on the same host set-up (CPUs online, "
                "isolation, [guest] pin), or start a new campaign",
            )
    execute_on(cdir, spec, targets, max_failures=max_failures)


def write_spec_template(*, target: Path | None, profile: str, force: bool) -> str:
    """The commented spec of a built-in profile: written to ``target``, or returned.

    Every key comes with its help from the spec's field table; the profile's own
    leading comment block heads it.
    """
    path = profile_path(profile)
    text = spec_template(load_spec(path), read_toml(path), profile_header(path))
    if target is None:
        return text
    if target.exists() and not force:
        msg = f"{target} already exists"
        raise OutputError(
            msg,
            hint="choose another file name, or pass --force to overwrite it",
        )
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        msg = f"cannot write {target}: {exc.strerror}"
        raise OutputError(msg) from exc
    return text
