"""Command-line options shared by several commands."""

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
    typer.Option(
        "--prefix", metavar="DIR", help="Absolute directory on the host where snpapp releases live."
    ),
]

MirrorOption = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        metavar="URL",
        help="Debian mirror for the base image and Debian sources (default: "
        "$SNPAPP_DEBIAN_MIRROR, else the mirror the stack's last build used, remembered in "
        "ARTIFACTS/<stack>/debian-mirror, else the stack's pinned snapshot.debian.org date).",
    ),
]
