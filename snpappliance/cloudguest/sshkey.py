"""The per-campaign SSH key pair the cloud guest trusts (made with ssh-keygen)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snpappliance import proc
from snpappliance.errors import ConfigError

KEY_NAME = "guest_ed25519"
SSH_KEYGEN_HINT = "install the OpenSSH client (Debian: apt-get install openssh-client)"


@dataclass(frozen=True)
class GuestKey:
    private: Path
    public: Path

    @property
    def public_line(self) -> str:
        return self.public.read_text(encoding="utf-8").strip()


def keygen_argv(private: Path, comment: str) -> list[str]:
    """ssh-keygen for an ed25519 key without passphrase (the guest lives for one run)."""
    return ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)]


def ensure_guest_key(directory: Path, comment: str) -> GuestKey:
    """The key pair in ``directory``; made on first use, reused on ``--resume``."""
    private = directory / KEY_NAME
    public = directory / f"{KEY_NAME}.pub"
    if private.exists() != public.exists():
        raise ConfigError(
            f"half a guest key pair in {directory}: {private.name} and {public.name} "
            "must both exist or both be absent",
            hint=f"delete {private} and {public}; a new pair is made on the next start",
        )
    if not private.exists():
        directory.mkdir(parents=True, exist_ok=True)
        proc.run(keygen_argv(private, comment), timeout=30, hint=SSH_KEYGEN_HINT)
    private.chmod(0o600)
    return GuestKey(private=private, public=public)
