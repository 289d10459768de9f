"""The steps of a deploy that change the host's system, each with a harmless check twin.

Installing the kernel packages, writing the kvm_amd module options and choosing
the kernel for the next boot change the machine. Each :class:`SystemStep` carries
the exact command that does it and a check command that validates it without
changing anything (``--system-steps check``): the package is a valid .deb, the
tool exists, GRUB is configured so that ``grub-reboot`` works.

An SSH user that is not root runs them (and their checks, which must see what
root sees) through :data:`SUDO`: the command stays an argument vector, so
nothing is re-parsed by a shell on the way.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

#: ``-n``: fail instead of prompting, since no terminal reaches a password prompt.
SUDO = ("sudo", "-n", "--")
#: Run once before anything else with ``--sudo``: does sudo work without a password?
SUDO_PROBE = ("sudo", "-n", "true")

MODPROBE_DIR = "/etc/modprobe.d"
MODPROBE_NAME = "snpapp-kvm_amd.conf"
#: Same options as AMDSEV's kvm.conf (written with underscores, the parameter names).
MODPROBE_CONF = (
    "# Written by snpapp deploy: bring up SEV, SEV-ES and SEV-SNP in KVM.\n"
    "options kvm_amd sev=1 sev_es=1 sev_snp=1\n"
)

#: $1 = reboot|default, $2 = kernel release. Finds the kernel's GRUB menu entry id
#: (inside the "Advanced options" submenu) and selects it for the next boot only
#: (grub-reboot) or for every boot (grub-set-default). Before a grub-reboot, a host
#: with no saved default gets the running kernel as its default: GRUB would
#: otherwise boot its first entry, the newest kernel (the one being tried), at
#: every boot after the one-time boot, and a failed try would not fall back.
GRUB_SELECT = r"""
mode=$1; krel=$2; cfg=/boot/grub/grub.cfg
[ -r "$cfg" ] || { echo "$cfg is not readable" >&2; exit 3; }
sub=$(grep -o "gnulinux-advanced-[0-9a-fA-F-]*" "$cfg" | head -n 1)
entry_of() {
  e=$(grep -o "gnulinux-[^' ]*-advanced-[0-9a-fA-F-]*" "$cfg" \
    | grep -F -- "gnulinux-$1-advanced-" | head -n 1)
  [ -n "$e" ] || { echo "no GRUB menu entry for kernel $1 in $cfg" >&2; exit 3; }
  if [ -n "$sub" ]; then echo "$sub>$e"; else echo "$e"; fi
}
target=$(entry_of "$krel") || exit 3
if [ "$mode" = reboot ]; then
  if ! grub-editenv list | grep -q '^saved_entry=.'; then
    running=$(entry_of "$(uname -r)") || exit 3
    grub-set-default "$running"
    echo "pinned the running kernel as the GRUB default: $running" >&2
  fi
  grub-reboot "$target"
else grub-set-default "$target"; fi
echo "$target"
"""

GRUB_CHECK = r"""
command -v grub-reboot >/dev/null || { echo "grub-reboot is not installed" >&2; exit 1; }
grep -q '^GRUB_DEFAULT=saved' /etc/default/grub 2>/dev/null || {
  echo "GRUB_DEFAULT is not 'saved' in /etc/default/grub: grub-reboot has no effect" >&2
  exit 1; }
"""

MODPROBE_CHECK = r"""
[ -f "$1" ] || { echo "$1 is missing" >&2; exit 1; }
[ -d /etc/modprobe.d ] && [ -w /etc/modprobe.d ] || {
  echo "/etc/modprobe.d is not writable" >&2; exit 1; }
"""

#: $1 = the prefix. Prints ``key=value`` lines about the host deploy needs to know
#: before it starts. ``blocked`` is the first directory the SSH user would have to
#: write for the upload and cannot (the prefix and its releases/, or where the
#: prefix would be created); empty when the upload can go ahead.
HOST_PROBE = r"""
printf 'arch=%s\n' "$(uname -m)"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
printf 'id=%s\nid_like=%s\npretty=%s\n' "${ID:-}" "${ID_LIKE:-}" "${PRETTY_NAME:-unknown}"
if command -v dpkg >/dev/null; then echo dpkg=yes; else echo dpkg=no; fi
printf 'uid=%s\nuser=%s\n' "$(id -u)" "$(id -un)"
if [ -e "$1" ]; then set -- "$1" "$1/releases"; else
  d=$(dirname -- "$1"); while [ ! -e "$d" ]; do d=$(dirname -- "$d"); done; set -- "$d"; fi
blocked=
for d in "$@"; do
  [ -e "$d" ] || continue
  [ -d "$d" ] && [ -w "$d" ] && [ -x "$d" ] || { blocked=$d; break; }
done
printf 'blocked=%s\n' "$blocked"
"""


class SystemMode(StrEnum):
    """What to do with the system-changing steps."""

    APPLY = "apply"
    CHECK = "check"


@dataclass(frozen=True)
class SystemStep:
    title: str
    argv: tuple[str, ...]
    check_argv: tuple[str, ...]

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def as_root(self, sudo: bool) -> SystemStep:
        """This step through ``sudo -n --`` when ``sudo``; unchanged when the SSH user is root."""
        if not sudo:
            return self
        return replace(self, argv=(*SUDO, *self.argv), check_argv=(*SUDO, *self.check_argv))


def system_steps(
    release_path: str,
    kernel_packages: tuple[str, ...],
    kernel_release: str | None,
    *,
    sudo: bool = False,
) -> tuple[SystemStep, ...]:
    """Install the kernel, set the kvm_amd options, select the kernel for the next boot."""
    steps = []
    if kernel_packages:
        debs = tuple(f"{release_path}/{p}" for p in kernel_packages)
        names = ", ".join(p.rsplit("/", 1)[-1] for p in debs)
        validate = 'for d in "$@"; do dpkg-deb --info "$d" >/dev/null || exit 1; done'
        steps.append(
            SystemStep(
                f"install the host kernel package(s) {names}",
                ("dpkg", "-i", "--", *debs),
                ("sh", "-c", validate, "snpapp-check", *debs),
            )
        )
    conf = f"{release_path}/system/{MODPROBE_NAME}"
    steps.append(
        SystemStep(
            f"enable SEV-SNP in kvm_amd ({MODPROBE_DIR}/{MODPROBE_NAME})",
            ("install", "-D", "-m", "0644", "--", conf, f"{MODPROBE_DIR}/{MODPROBE_NAME}"),
            ("sh", "-c", MODPROBE_CHECK, "snpapp-check", conf),
        )
    )
    if kernel_release:
        steps.append(
            SystemStep(
                f"boot kernel {kernel_release} once, at the next reboot (grub-reboot)",
                ("sh", "-c", GRUB_SELECT, "snpapp-grub", "reboot", kernel_release),
                ("sh", "-c", GRUB_CHECK, "snpapp-check"),
            )
        )
    return tuple(step.as_root(sudo) for step in steps)


def make_default_step(kernel_release: str, *, sudo: bool = False) -> SystemStep:
    """Boot ``kernel_release`` at every boot from now on (``grub-set-default``)."""
    return SystemStep(
        f"make kernel {kernel_release} the default (grub-set-default)",
        ("sh", "-c", GRUB_SELECT, "snpapp-grub", "default", kernel_release),
        ("sh", "-c", GRUB_CHECK, "snpapp-check"),
    ).as_root(sudo)


def reboot_step(*, sudo: bool = False) -> SystemStep:
    return SystemStep(
        "reboot the host", ("systemctl", "reboot"), ("systemctl", "--version")
    ).as_root(sudo)


def host_fit_problems(probe: Mapping[str, str]) -> list[str]:
    """Why this host cannot take a snpapp release (empty: it can)."""
    problems = []
    if probe.get("arch") != "x86_64":
        problems.append(f"architecture is {probe.get('arch') or 'unknown'}, not x86_64")
    family = {probe.get("id", ""), *probe.get("id_like", "").split()}
    if not family & {"debian", "ubuntu"}:
        problems.append(
            f"{probe.get('pretty', 'the OS')} is not Debian or Ubuntu (the kernel ships as .deb)"
        )
    if probe.get("dpkg") != "yes":
        problems.append("dpkg is not installed")
    return problems
