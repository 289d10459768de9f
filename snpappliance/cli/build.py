"""``snpapp build``: pinned toolchain images and checksummed artefacts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from snpappliance.cli.app import HelpOption, app
from snpappliance.cli.options import MirrorOption
from snpappliance.errors import UsageError
from snpappliance.formats.manifest import ARTIFACTS_DIR
from snpappliance.formats.names import ALL_COMPONENTS, DEFAULT_STACK

HELP = """\
Build the SEV-SNP host stack from pinned inputs, each component in its own container.

Components: kernel (.deb packages via bindeb-pkg + .config), qemu (x86_64-softmmu
install tree as a tarball), ovmf (OVMF.fd), svsm (COCONUT-SVSM binaries and IGVM,
embedding OVMF), guest (the benchmark guest). `all` builds every component of
the stack. A stack (`snpapp stacks`) pins every source by commit SHA or Debian
.dsc checksum, every patch by SHA-256 and every toolchain version.

Toolchain images are built from a Debian base that `snpapp build base`
bootstraps with debootstrap (no registry needed) from the stack's pinned
snapshot.debian.org date, or from --mirror / SNPAPP_DEBIAN_MIRROR (recorded as
not bit-reproducible). A successful build remembers its mirror in
ARTIFACTS/<stack>/debian-mirror and the next build of the stack uses it again
unless --mirror or SNPAPP_DEBIAN_MIRROR says otherwise (`make demo` exports one:
the same build typed later reuses what it built); every build's first line names
its mirror. Image tags are content hashes: nothing is rebuilt unless its inputs
changed. Sources are cached in ~/.cache/snpapp (SNPAPP_CACHE).

Each component lands in ARTIFACTS/<stack>/<component>/ with manifest.json
(files with SHA-256, image id, source pin, patches, toolchain versions, times)
and build.log; a half-built directory never replaces a complete one. Ctrl-C
stops and removes the build containers (SNPAPP_KEEP_CONTAINER=1 keeps them).

Examples:

  snpapp build all --dry-run                       # print the plan, touch nothing
  snpapp build base --mirror http://deb.debian.org/debian
  snpapp build all --jobs 2                        # the default stack, genoa-2025
  snpapp build qemu --stack debian-bookworm --mirror http://deb.debian.org/debian
  snpapp build kernel --source kernel=~/src/linux  # a local tree instead of the pin
  snpapp build guest --stack debian-bookworm
"""

build_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)
app.add_typer(build_app, name="build")


@build_app.callback()
def _build_options(help_: HelpOption = False) -> None:
    """The group's own --help (see HelpOption); the components are its subcommands."""


StackOpt = Annotated[
    str,
    typer.Option(
        "--stack", "-s", metavar="NAME", help="Stack name (see `snpapp stacks`) or lock file path."
    ),
]
JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", metavar="N", help="Components built at once (dependencies respected)."
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print images, sources, patches and commands; no Docker.")
]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option("--source", metavar="COMPONENT=DIR", help="Build COMPONENT from a local tree."),
]
ArtifactsOpt = Annotated[
    Path, typer.Option("--artifacts", metavar="DIR", help="Where artefacts are published.")
]
BaseImageOpt = Annotated[
    str | None,
    typer.Option(
        "--base-image",
        metavar="REF@sha256:…",
        help="Use a registry base image pinned by digest instead of the bootstrapped base.",
    ),
]


def parse_sources(values: list[str] | None) -> dict[str, Path]:
    """``["kernel=~/linux"]`` → ``{"kernel": Path("/home/…/linux")}``."""
    sources: dict[str, Path] = {}
    for value in values or []:
        component, sep, directory = value.partition("=")
        if not sep or not component or not directory:
            msg = f"--source {value!r} is not COMPONENT=DIR"
            raise UsageError(
                msg,
                hint="for example --source kernel=$HOME/src/linux",
            )
        sources[component] = Path(directory).expanduser()
    return sources


def _run(components: list[str], stack: str, jobs: int, dry_run: bool, source: list[str] | None,
         mirror: str | None, artifacts: Path, base_image: str | None) -> None:  # fmt: skip
    # The Docker SDK loads only when a build runs.
    from snpappliance.build.commands import build_components, describe_build

    sources = parse_sources(source)
    if dry_run:
        lines = describe_build(stack, components, artifacts_root=artifacts, mirror=mirror,
                               jobs=jobs, sources=sources, base_image=base_image)  # fmt: skip
        for line in lines:
            typer.echo(line)
        return
    build_components(stack, components, artifacts_root=artifacts, mirror=mirror, jobs=jobs,
                     sources=sources, base_image=base_image)  # fmt: skip


def _component_command(component: str, summary: str) -> Callable[..., None]:
    def command(
        stack: StackOpt = DEFAULT_STACK,
        jobs: JobsOpt = 1,
        dry_run: DryRunOpt = False,
        source: SourceOpt = None,
        mirror: MirrorOption = None,
        artifacts: ArtifactsOpt = ARTIFACTS_DIR,
        base_image: BaseImageOpt = None,
    ) -> None:
        _run([component], stack, jobs, dry_run, source, mirror, artifacts, base_image)

    command.__doc__ = summary
    return command


#: Each component's command: what it builds, and an example of its use.
COMMANDS = {
    ALL_COMPONENTS: (
        "Build every component of the stack (default genoa-2025).",
        "snpapp build all --jobs 2",
    ),
    "kernel": (
        "Build the SEV-SNP host kernel: .deb packages (bindeb-pkg) and the final .config.",
        "snpapp build kernel --source kernel=~/src/linux",
    ),
    "qemu": (
        "Build QEMU (x86_64-softmmu) and package its install tree as a tarball.",
        "snpapp build qemu --dry-run",
    ),
    "ovmf": (
        "Build OVMF.fd, the firmware SNP guests load with -bios.",
        "snpapp build ovmf --stack upstream-2025",
    ),
    "svsm": (
        "Build COCONUT-SVSM and its IGVM files (builds OVMF first: the IGVM embeds it).",
        "snpapp build svsm --jobs 2",
    ),
    "guest": (
        "Build the benchmark guest (kernel + initramfs) from Debian packages.",
        "snpapp build guest --stack debian-bookworm",
    ),
}
for _name, (_summary, _example) in COMMANDS.items():
    build_app.command(_name, help=f"{_summary}\n\nExample: {_example}")(
        _component_command(_name, _summary)
    )


@build_app.command("base")
def base(
    stack: StackOpt = DEFAULT_STACK,
    mirror: MirrorOption = None,
    artifacts: ArtifactsOpt = ARTIFACTS_DIR,
    dry_run: DryRunOpt = False,
) -> None:
    """Bootstrap the stack's Debian release with debootstrap and import it as snpapp-base.

    Needs root and debootstrap; no registry. Done once: the tag is a hash of
    release, variant and mirror, so later builds reuse it.

    Example: snpapp build base --mirror http://deb.debian.org/debian
    """
    from snpappliance.build.commands import build_base, describe_build

    if dry_run:
        mirror_line, _stack_line, base_line, *_ = describe_build(
            stack, [], artifacts_root=artifacts, mirror=mirror
        )
        typer.echo(mirror_line)
        typer.echo(base_line)
        return
    tag = build_base(stack, artifacts_root=artifacts, mirror=mirror)
    typer.echo(tag)
