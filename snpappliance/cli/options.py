"""Command-line options shared by the commands that reach hosts (deploy, doctor, campaign)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.hosts.sshcmd import SSH_CONFIG_ENV

SshConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--ssh-config",
        envvar=SSH_CONFIG_ENV,
        metavar="FILE",
        help="ssh client config to use instead of ~/.ssh/config (ssh -F).",
    ),
]

PrefixOption = Annotated[
    str,
    typer.Option("--prefix", help="Absolute directory on the host where snpapp releases live."),
]
