"""The per-campaign SSH key pairs of the cloud guest (made with ssh-keygen).

``client_ed25519`` logs into the guest; ``host_ed25519`` is the guest's own host
key, given to it in the seed, so that the client checks the guest strictly.
Both private keys, and every file that holds one (the seed), are kept with
mode 0600 in directories with mode 0700 (:func:`make_private_dir`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snpappliance import proc
from snpappliance.errors import ConfigError

CLIENT_KEY = "client_ed25519"
HOST_KEY = "host_ed25519"
SSH_KEYGEN_HINT = "install the OpenSSH client (Debian: apt-get install openssh-client)"


@dataclass(frozen=True)
class GuestKey:
    private: Path
    public: Path

    @property
    def public_line(self) -> str:
        return self.public.read_text(encoding="utf-8").strip()

    @property
    def private_text(self) -> str:
        return self.private.read_text(encoding="utf-8")


def make_private_dir(path: Path) -> Path:
    """``path`` (made if missing) with mode 0700, also when an older snpapp made it 0755."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def keygen_argv(private: Path, comment: str) -> list[str]:
    """ssh-keygen for an ed25519 key without passphrase (the guest lives for one run)."""
    return ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)]


def ensure_guest_key(directory: Path, comment: str, name: str = CLIENT_KEY) -> GuestKey:
    """The key pair ``name`` in ``directory``; made on first use, reused on ``--resume``."""
    private = directory / name
    public = directory / f"{name}.pub"
    if private.exists() != public.exists():
        msg = (
            f"half a guest key pair in {directory}: {private.name} and {public.name} "
            "must both exist or both be absent"
        )
        raise ConfigError(
            msg,
            hint=f"delete {private} and {public}; a new pair is made on the next start",
        )
    make_private_dir(directory)
    if not private.exists():
        proc.run(keygen_argv(private, comment), timeout=30, hint=SSH_KEYGEN_HINT)
    private.chmod(0o600)
    return GuestKey(private=private, public=public)
