"""The cloud-init NoCloud seed: user-data and meta-data rendered from jinja2, then an ISO.

cloud-init's NoCloud datasource finds its configuration on a filesystem labelled
``cidata`` holding ``user-data`` and ``meta-data``. The seed creates one user
that trusts the campaign's SSH key, gives the guest the campaign's SSH host key
(so the client checks the guest's identity strictly), installs ``sysbench`` and ``time`` (the
workloads' programs), and, once the packages are installed, touches
:attr:`CloudSeed.ready_file` and prints :attr:`CloudSeed.ready_marker` on the
console: that file is how the campaign knows the guest is ready.

The user-data holds the guest's SSH host private key: the seed's directory has
mode 0700 and its files (user-data, meta-data, the ISO) mode 0600.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2

from snpappliance import proc
from snpappliance.campaign.guests.cloud.sshkey import make_private_dir
from snpappliance.errors import ConfigError, OutputError
from snpappliance.fsutil import atomic_write_text
from snpappliance.resources import data_dir

if TYPE_CHECKING:
    from pathlib import Path

#: The ISO 9660 volume label cloud-init's NoCloud datasource looks for.
SEED_LABEL = "cidata"
SEED_FILES = ("user-data", "meta-data")
#: The programs the workloads run (sysbench, GNU time's /usr/bin/time).
DEFAULT_PACKAGES = ("sysbench", "time")
DEFAULT_USER = "snpapp"
READY_MARKER = "SNPAPP-CLOUD-READY"
READY_DIR = "/var/lib/snpapp"
GENISOIMAGE_HINT = "install genisoimage (Debian: apt-get install genisoimage)"

_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_KEY_RE = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( [ -~]*)?$")


@dataclass(frozen=True)
class CloudSeed:
    """What one cloud guest's seed says (checked by :func:`check_seed`)."""

    hostname: str
    instance_id: str
    #: One OpenSSH public key line (``ssh-ed25519 AAAA... comment``).
    ssh_public_key: str
    #: The guest's own ed25519 SSH host key (OpenSSH private key text and public line).
    host_key_private: str
    host_key_public: str
    user: str = DEFAULT_USER
    packages: tuple[str, ...] = DEFAULT_PACKAGES
    ready_marker: str = READY_MARKER

    @property
    def ready_dir(self) -> str:
        return READY_DIR

    @property
    def ready_file(self) -> str:
        return f"{READY_DIR}/ready"


def check_seed(seed: CloudSeed) -> None:
    """Refuse values that would not be a valid hostname, user, package or key."""
    problems = []
    if not _NAME_RE.match(seed.hostname):
        problems.append(f"hostname {seed.hostname!r} is not a DNS label")
    if not _ID_RE.match(seed.instance_id):
        problems.append(f"instance-id {seed.instance_id!r} has characters outside [A-Za-z0-9._-]")
    if not _NAME_RE.match(seed.user):
        problems.append(f"user {seed.user!r} is not a valid user name")
    problems += [
        f"package {p!r} is not a package name" for p in seed.packages if not _PACKAGE_RE.match(p)
    ]
    if not _KEY_RE.match(seed.ssh_public_key.strip()):
        problems.append("the SSH public key is not one OpenSSH public key line")
    if not seed.host_key_public.startswith("ssh-ed25519 ") or not _KEY_RE.match(
        seed.host_key_public.strip()
    ):
        problems.append("the host public key is not one ssh-ed25519 public key line")
    if "OPENSSH PRIVATE KEY" not in seed.host_key_private:
        problems.append("the host private key is not an OpenSSH private key")
    if problems:
        raise ConfigError(
            "the cloud-init seed is invalid: " + "; ".join(problems),
            hint="use lower-case DNS names, Debian package names and an ed25519/RSA public key",
        )


def yaml_string(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (JSON's string syntax, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates") / "cloud-init"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["yaml_string"] = yaml_string
    return env


def render_seed(seed: CloudSeed) -> dict[str, str]:
    """The seed's files (``user-data``, ``meta-data``) rendered from the templates."""
    check_seed(seed)
    env = _environment()
    try:
        return {name: env.get_template(f"{name}.j2").render(seed=seed) for name in SEED_FILES}
    except jinja2.TemplateError as exc:
        msg = f"cannot render the cloud-init seed: {exc}"
        raise OutputError(
            msg,
            hint="reinstall snpapp; if you edited templates/cloud-init/, check that file",
        ) from exc


def genisoimage_argv(iso: Path, files: list[Path]) -> list[str]:
    """The command that writes the NoCloud seed ISO (Joliet + Rock Ridge, label ``cidata``)."""
    return [
        "genisoimage",
        "-output",
        str(iso),
        "-volid",
        SEED_LABEL,
        "-joliet",
        "-rock",
        "-quiet",
        *(str(f) for f in files),
    ]


def build_seed(seed: CloudSeed, directory: Path) -> Path:
    """Render the seed into ``directory`` and build ``directory/seed.iso``; return the ISO.

    ``directory`` gets mode 0700 before anything is written in it, every file mode 0600.
    """
    rendered = render_seed(seed)
    make_private_dir(directory)
    files = []
    for name, text in rendered.items():
        path = directory / name
        atomic_write_text(path, text, mode=0o600)
        files.append(path)
    iso = directory / "seed.iso"
    iso.unlink(missing_ok=True)
    proc.run(genisoimage_argv(iso, files), timeout=60, hint=GENISOIMAGE_HINT)
    for path in (*files, iso):
        path.chmod(0o600)
    return iso
