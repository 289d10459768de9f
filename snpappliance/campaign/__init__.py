"""``snpapp campaign``: fresh guest per run, scenarios compared, nothing lost.

The plain functions the CLI calls live here; the pieces are :mod:`.spec`
(TOML → frozen spec), :mod:`.plan` (run order, pure), :mod:`.qemu` (command
lines, pure), :mod:`.boot` (one guest boot), :mod:`.judge` (its verdict),
:mod:`.attempt` (retries and commit), :mod:`.runner` (the loop) and
:mod:`.store` (the campaign directory and its bookkeeping).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from snpappliance.campaign import store
from snpappliance.campaign.prepare import prepare
from snpappliance.campaign.runner import create_campaign, execute_campaign, load_campaign
from snpappliance.campaign.spec import CampaignSpec, load_spec
from snpappliance.errors import CampaignError, OutputError
from snpappliance.hosts import Host, SshHost, connect
from snpappliance.profiles import DEFAULT_PROFILE, profile_path


def make_host(name: str, *, ssh_config: Path | None = None) -> Host:
    """``local`` is this machine; any other name is an SSH destination.

    ``ssh_config`` (or ``$SNPAPP_SSH_CONFIG``) selects another ssh client config.
    """
    return connect(name, ssh_config=ssh_config)


def _close(host: Host) -> None:
    if isinstance(host, SshHost):
        host.close()


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
        raise CampaignError(
            "choose either --profile or --spec, not both",
            hint="--spec FILE runs your own spec; --profile NAME a built-in one",
        )
    spec = load_spec(spec_file or profile_path(profile or DEFAULT_PROFILE))
    if reps is not None:
        spec = replace(spec, repetitions=reps)
    if host is not None:
        spec = replace(spec, host=host)
    if seed is not None:
        spec = replace(spec, seed=seed)
    if max_failures is not None:
        spec = replace(spec, max_failures=max_failures)
    return spec


def run_campaign(
    *, spec: CampaignSpec, root: Path, artifacts_root: Path, ssh_config: Path | None = None
) -> Path:
    """Start a new campaign of ``spec`` under ``root``; return its directory."""
    host = make_host(spec.host, ssh_config=ssh_config)
    try:
        cdir, prepared = create_campaign(spec, host, root=root, artifacts_root=artifacts_root)
        execute_campaign(cdir, spec, host, prepared)
    finally:
        _close(host)
    return cdir.path


def resume_campaign(
    *,
    directory: Path,
    artifacts_root: Path,
    max_failures: int | None = None,
    ssh_config: Path | None = None,
) -> Path:
    """Run the missing runs of the campaign in ``directory``, in planned order."""
    cdir, spec = load_campaign(directory)
    host = make_host(spec.host, ssh_config=ssh_config)
    try:
        _resume(cdir, spec, host, artifacts_root, max_failures)
    finally:
        _close(host)
    return cdir.path


def _resume(
    cdir: store.CampaignDir,
    spec: CampaignSpec,
    host: Host,
    artifacts_root: Path,
    max_failures: int | None,
) -> None:
    prepared = prepare(spec, host, artifacts_root)
    recorded = json.loads(cdir.environment.read_text(encoding="utf-8"))
    if recorded["guest"]["manifest_digest"] != prepared.manifest.digest:
        raise CampaignError(
            f"the guest artefacts changed since campaign {cdir.campaign_id} started "
            f"(manifest digest {prepared.manifest.digest[:12]}, "
            f"recorded {recorded['guest']['manifest_digest'][:12]})",
            hint="resume with the same build, or start a new campaign",
        )
    execute_campaign(cdir, spec, host, prepared, max_failures=max_failures)


def write_spec_template(*, target: Path | None, profile: str, force: bool) -> str:
    """A commented spec (a built-in profile's file): written to ``target``, or returned."""
    text = profile_path(profile).read_text(encoding="utf-8")
    if target is None:
        return text
    if target.exists() and not force:
        raise OutputError(
            f"{target} already exists",
            hint="choose another file name, or pass --force to overwrite it",
        )
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from exc
    return text
