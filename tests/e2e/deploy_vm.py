"""End-to-end `snpapp deploy --reboot` and `--rollback --reboot` against a throwaway VM.

The deploy tests run the kernel, GRUB and reboot steps only in check mode,
because a test must never touch the boot of the machine it runs on. This
check gives those steps a machine of their own: a small Debian bookworm VM
under QEMU (TCG, user networking, its sshd forwarded to 127.0.0.1), booted
with OVMF and GRUB (``GRUB_DEFAULT=saved``) from a GPT disk built without
mounting anything or using loop devices:

1. image (cached in ~/.cache/snpapp/e2e-deploy/, reused by the next run):
   debootstrap with systemd, openssh-server, Debian's cloud kernel and GRUB;
   ``mkfs.ext4 -d`` for the root file system, an EFI system partition made
   with mtools, ``sfdisk`` and ``dd`` for the disk; one first boot runs
   ``update-grub`` in the VM, as Debian's installer would;
2. each run boots a fresh copy-on-write overlay of it, with an ssh client
   config naming the VM ``genoa-e2e`` (its real host key, checked strictly);
3. two releases of a scratch stack: A holds the kernel the VM runs, B a newer
   one (bookworm keeps two ABIs of its 6.1 cloud kernel: the VM gets the older,
   B the newer), each laid out as ``snpapp build kernel`` publishes it;
4. ``snpapp deploy`` of A (no reboot), then ``snpapp deploy --reboot`` of B:
   the VM must come back on B's kernel, doctor must fail (no SEV-SNP in a
   TCG VM), and deploy must refuse to make B's kernel the default and say how
   to roll back; a plain reboot must then return to the old kernel;
5. ``snpapp deploy --rollback --reboot``: the VM must come back on A's kernel,
   now the GRUB default.

Needs root (debootstrap, mkfs.ext4 -d keeping ownership), qemu-system-x86,
ovmf, debootstrap, fdisk (sfdisk), mtools, qemu-utils and openssh-client.
Takes about 15 minutes on 2 cores (the image, built once, about 2.5 more).

    make e2e-deploy            # or: sudo .venv/bin/python -m tests.e2e.deploy_vm

An end-to-end test, kept out of ``make test`` (it needs root and a quarter of
an hour): pytest does not collect it, as its file name does not start with ``test_``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import lzma
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from snpappliance import proc  # noqa: E402
from snpappliance.errors import CommandTimeoutError, SnpappError  # noqa: E402
from snpappliance.formats.manifest import Manifest, describe_files  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator
    from subprocess import Popen

MIRROR = os.environ.get("SNPAPP_DEBIAN_MIRROR", "http://deb.debian.org/debian").rstrip("/")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "snpapp" / "e2e-deploy"
ALIAS = "genoa-e2e"
STACK = "e2e-deploy"
PREFIX = "/opt/snpapp"
#: Bump when the image recipe changes, so a cached image of the old recipe is not reused.
IMAGE_VERSION = 2
PACKAGES = (
    "systemd-sysv", "udev", "kmod", "openssh-server",
    "initramfs-tools", "grub-efi-amd64-bin", "grub2-common", "rsync", "xz-utils",
    "procps", "iproute2",
)  # fmt: skip
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
ESP_MIB, ROOT_MIB = 64, 3072
GPT_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
GPT_LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#: Bookworm's cloud kernels: the VM boots the older ABI, release B deploys the newer.
#: (Backports' 6.12 would be the closer match to the stack's kernel, but under TCG
#: (QEMU 7.2) it oopsed, double-faulted or killed init in repeated boots, one vCPU or two.)
CLOUD_KERNEL = re.compile(r"linux-image-6\.1\.0-[0-9]+-cloud-amd64")
BOOT_TIMEOUT_S = 900.0


class E2eFailure(Exception):
    """A step of the end-to-end check failed; the message says which and why."""


def say(message: str) -> None:
    print(f"e2e-deploy: {message}", flush=True)


@dataclass
class Timings:
    rows: list[tuple[str, float]]

    @contextlib.contextmanager
    def measure(self, label: str) -> Iterator[None]:
        start = time.monotonic()
        say(f"{label} ...")
        yield
        elapsed = time.monotonic() - start
        self.rows.append((label, elapsed))
        say(f"{label}: {elapsed:.0f} s")

    def show(self) -> None:
        for label, seconds in self.rows:
            print(f"  {label:<50} {seconds:6.0f} s")


# --- Debian archive --------------------------------------------------------------------------


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str
    filename: str
    sha256: str


def packages_index(suite: str) -> list[dict[str, str]]:
    """The stanzas of ``suite``'s main/binary-amd64 Packages index."""
    url = f"{MIRROR}/dists/{suite}/main/binary-amd64/Packages.xz"
    with urllib.request.urlopen(url, timeout=120) as response:
        text = lzma.decompress(response.read()).decode("utf-8")
    stanzas = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            stanzas.append(fields)
    return stanzas


def newer(a: str, b: str) -> bool:
    """Debian version ``a`` is newer than ``b`` (dpkg's ordering)."""
    return proc.run(["dpkg", "--compare-versions", a, "gt", b], check=False).ok


def kernel_pair() -> tuple[DebianPackage, DebianPackage]:
    """Bookworm's two newest cloud kernel packages: (the VM's, the one release B deploys)."""
    found = [s for s in packages_index("bookworm") if CLOUD_KERNEL.fullmatch(s["Package"])]
    ordered: list[dict[str, str]] = []
    for stanza in found:
        at = sum(1 for o in ordered if newer(stanza["Version"], o["Version"]))
        ordered.insert(at, stanza)
    if len(ordered) < 2:
        msg = (
            f"{MIRROR} bookworm holds {len(ordered)} cloud kernel package(s) matching "
            f"{CLOUD_KERNEL.pattern}; this check needs two versions"
        )
        raise E2eFailure(msg)
    old, new = (DebianPackage(p["Package"], p["Version"], p["Filename"], p["SHA256"])
                for p in ordered[-2:])  # fmt: skip
    return old, new


def fetch_deb(package: DebianPackage) -> Path:
    """The package's .deb in the cache, downloaded and checked against the index's SHA-256."""
    path = CACHE / "debs" / package.filename.rsplit("/", 1)[-1]
    if path.is_file() and sha256(path) == package.sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with urllib.request.urlopen(f"{MIRROR}/{package.filename}", timeout=600) as response:
        partial.write_bytes(response.read())
    if sha256(partial) != package.sha256:
        msg = f"{package.filename} from {MIRROR} does not match its SHA-256"
        raise E2eFailure(msg)
    partial.rename(path)
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the VM image ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """The cached, booted-once VM disk and what a run needs to reach it."""

    directory: Path

    @property
    def disk(self) -> Path:
        return self.directory / "disk.raw"

    @property
    def client_key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def host_key_pub(self) -> Path:
        return self.directory / "ssh_host_ed25519_key.pub"

    @property
    def kernel(self) -> str:
        return (self.directory / "kernel-release").read_text().strip()

    @property
    def kernel_deb(self) -> Path:
        return self.directory / (self.directory / "kernel-deb").read_text().strip()

    @property
    def complete(self) -> bool:
        return (self.directory / "complete").is_file()


def image_dir() -> Path:
    return CACHE / f"bookworm-v{IMAGE_VERSION}"


def build_image(work: Path, kernel: DebianPackage) -> Image:
    """Bootstrap, assemble and boot once the VM disk; publish it in the cache."""
    image = Image(image_dir())
    if image.directory.exists():
        shutil.rmtree(image.directory)
    staging = Image(image.directory.with_name(image.directory.name + ".partial"))
    if staging.directory.exists():
        shutil.rmtree(staging.directory)
    staging.directory.mkdir(parents=True)
    rootfs = work / "rootfs"
    say(f"debootstrap bookworm from {MIRROR}")
    include = ",".join((*PACKAGES, kernel.name))
    proc.run(["debootstrap", "--variant=minbase", f"--include={include}", "bookworm", rootfs,
              MIRROR], timeout=3600, log_file=work / "debootstrap.log")  # fmt: skip
    root_uuid = str(uuid.uuid4())
    release = configure_rootfs(rootfs, staging, root_uuid)
    assemble_disk(rootfs, work, staging.disk, root_uuid)
    shutil.rmtree(rootfs)
    first_boot(staging, work)
    (staging.directory / "complete").write_text(f"{release}\n")
    staging.directory.rename(image.directory)
    return image


def configure_rootfs(rootfs: Path, image: Image, root_uuid: str) -> str:
    """Networking, sshd keys, GRUB settings; returns the installed kernel release."""
    kernels = sorted(p.name.removeprefix("vmlinuz-") for p in (rootfs / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1:
        msg = f"expected one kernel in the bootstrapped image, found {kernels}"
        raise E2eFailure(msg)
    kernel = kernels[0]
    (image.directory / "kernel-release").write_text(f"{kernel}\n")
    # Release A deploys the very kernel the VM runs: keep its .deb (debootstrap's cache).
    debs = list((rootfs / "var/cache/apt/archives").glob(f"linux-image-{kernel}_*.deb"))
    if len(debs) != 1:
        msg = f"debootstrap kept no single .deb of linux-image-{kernel}: {debs}"
        raise E2eFailure(msg)
    shutil.copyfile(debs[0], image.directory / debs[0].name)
    (image.directory / "kernel-deb").write_text(f"{debs[0].name}\n")
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()

    etc = rootfs / "etc"
    (etc / "hostname").write_text(f"{ALIAS}\n")
    (etc / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {ALIAS}\n")
    (etc / "fstab").write_text(f"UUID={root_uuid} / ext4 errors=remount-ro 0 1\n")
    (etc / "systemd/network/20-dhcp.network").write_text(
        "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n"
    )
    wants = etc / "systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "systemd-networkd.service").symlink_to("/lib/systemd/system/systemd-networkd.service")
    (etc / "default/grub").write_text(
        "GRUB_DEFAULT=saved\nGRUB_TIMEOUT=1\nGRUB_DISTRIBUTOR=Debian\n"
        'GRUB_CMDLINE_LINUX_DEFAULT=""\nGRUB_CMDLINE_LINUX="console=ttyS0,115200"\n'
        'GRUB_TERMINAL="serial console"\n'
        'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n'
    )
    # The VM's one host key is made here, so the client config can pin it.
    for old in (etc / "ssh").glob("ssh_host_*"):
        old.unlink()
    host_key = etc / "ssh/ssh_host_ed25519_key"
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", ALIAS, "-f", host_key])
    shutil.copyfile(host_key.with_suffix(".pub"), image.host_key_pub)
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "snpapp-e2e",
              "-f", image.client_key])  # fmt: skip
    ssh_dir = rootfs / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(image.client_key.with_suffix(".pub"), ssh_dir / "authorized_keys")

    # GRUB: modules where grub-install puts them, a first grub.cfg that boots the
    # kernel (update-grub replaces it at the first boot, where grub-probe works).
    grub = rootfs / "boot/grub"
    shutil.copytree(rootfs / "usr/lib/grub/x86_64-efi", grub / "x86_64-efi")
    (grub / "grub.cfg").write_text(
        "set timeout=1\nserial --unit=0 --speed=115200\n"
        "terminal_input serial console\nterminal_output serial console\n"
        f"search --no-floppy --fs-uuid --set=root {root_uuid}\n"
        f"linux /boot/vmlinuz-{kernel} root=UUID={root_uuid} ro console=ttyS0,115200\n"
        f"initrd /boot/initrd.img-{kernel}\nboot\n"
    )
    (grub / "early.cfg").write_text(
        f"search --no-floppy --fs-uuid --set=root {root_uuid}\nset prefix=($root)/boot/grub\n"
    )
    proc.run(["chroot", rootfs, "grub-editenv", "/boot/grub/grubenv", "create"])
    # grub-mkimage of the image itself: its modules must match the copied ones.
    proc.run(["chroot", rootfs, "grub-mkimage", "-O", "x86_64-efi", "-o", "/boot/grub/BOOTX64.EFI",
              "-c", "/boot/grub/early.cfg", "-p", "/boot/grub",
              "part_gpt", "ext2", "search", "search_fs_uuid", "normal", "configfile",
              "linux", "echo", "serial", "terminal", "efi_gop", "all_video"])  # fmt: skip
    return kernel


def assemble_disk(rootfs: Path, work: Path, disk: Path, root_uuid: str) -> None:
    """A GPT disk: a FAT ESP with GRUB as the removable-media loader, then the ext4 root."""
    esp = work / "esp.img"
    with esp.open("wb") as fh:
        fh.truncate(ESP_MIB << 20)
    proc.run(["mformat", "-i", esp, "-F", "-v", "ESP", "::"])
    proc.run(["mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"])
    loader = rootfs / "boot/grub/BOOTX64.EFI"
    proc.run(["mcopy", "-i", esp, loader, "::/EFI/BOOT/BOOTX64.EFI"])
    loader.unlink()
    root = work / "root.img"
    proc.run(["mkfs.ext4", "-q", "-F", "-L", "snpapp-e2e", "-U", root_uuid, "-d", rootfs,
              root, f"{ROOT_MIB}M"], timeout=1800)  # fmt: skip
    esp_start, root_start = 2048, 2048 + (ESP_MIB << 11)
    with disk.open("wb") as fh:
        fh.truncate((root_start + (ROOT_MIB << 11) + 2048) * 512)
    layout = (
        "label: gpt\n"
        f"start={esp_start}, size={ESP_MIB << 11}, type={GPT_ESP}, name=esp\n"
        f"start={root_start}, size={ROOT_MIB << 11}, type={GPT_LINUX}, name=root\n"
    )
    proc.run(["sfdisk", "--quiet", disk], input=layout)
    for part, start in ((esp, esp_start), (root, root_start)):
        proc.run(["dd", f"if={part}", f"of={disk}", "bs=1M", f"seek={start // 2048}",
                  "conv=notrunc,sparse", "status=none"], timeout=1800)  # fmt: skip
        part.unlink()


def first_boot(image: Image, work: Path) -> None:
    """Boot the new disk once to run update-grub there (grub-probe needs the running VM)."""
    with VirtualMachine.start(image, image.disk, work / "first-boot", overlay=False) as vm:
        vm.wait_for_ssh()
        vm.ssh("update-grub", timeout=600)
        vm.poweroff()


# --- the VM ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class VirtualMachine:
    """One QEMU guest (TCG) and the ssh client config that reaches it as ``genoa-e2e``."""

    def __init__(self, workdir: Path, ssh_config: Path, qemu: Popen[bytes]) -> None:
        self.workdir = workdir
        self.ssh_config = ssh_config
        self._qemu = qemu

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, image: Image, disk: Path, workdir: Path, *, overlay: bool
    ) -> Iterator[VirtualMachine]:
        workdir.mkdir(parents=True, exist_ok=True)
        if overlay:
            top = workdir / "overlay.qcow2"
            proc.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", disk, top])
            drive, fmt = top, "qcow2"
        else:
            drive, fmt = disk, "raw"
        vars_copy = workdir / "OVMF_VARS.fd"
        shutil.copyfile(OVMF_VARS, vars_copy)
        port = free_port()
        ssh_config = write_ssh_config(workdir, image, port)
        # One vCPU: the guest only installs packages and reboots, and TCG leaves the
        # other core to the machine's other work.
        argv = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "qemu64",
            "-smp", "1", "-m", "2048", "-display", "none", "-monitor", "none",
            "-serial", f"file:{workdir / 'console.log'}",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
            "-drive", f"if=virtio,format={fmt},file={drive}",
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-pci,netdev=n0",
        ]  # fmt: skip
        with (workdir / "qemu.log").open("ab") as log, proc.spawn(argv, stdout=log) as qemu:
            yield cls(workdir, ssh_config, qemu)

    @property
    def console(self) -> Path:
        return self.workdir / "console.log"

    def ssh(self, command: str, *, timeout: float = 120, check: bool = True) -> proc.Completed:
        argv = ["ssh", "-F", str(self.ssh_config), "-o", "BatchMode=yes", ALIAS, command]
        return proc.run(argv, timeout=timeout, check=check)

    def wait_for_ssh(self, timeout_s: float = BOOT_TIMEOUT_S) -> None:
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            self._check_alive()
            with contextlib.suppress(CommandTimeoutError):
                if self.ssh("true", timeout=30, check=False).ok:
                    return
            time.sleep(5)
        msg = (
            f"the VM did not answer over SSH within {timeout_s:.0f} s; "
            f"see its console: {self.console}"
        )
        raise E2eFailure(msg)  # fmt: skip

    def poweroff(self, timeout_s: float = 300) -> None:
        self.ssh("systemctl poweroff", check=False, timeout=60)
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self._qemu.poll() is not None:
                return
            time.sleep(2)
        msg = f"the VM did not power off within {timeout_s:.0f} s ({self.console})"
        raise E2eFailure(msg)

    def _check_alive(self) -> None:
        if self._qemu.poll() is not None:
            msg = f"QEMU exited; see {self.workdir / 'qemu.log'} and {self.console}"
            raise E2eFailure(msg)


def write_ssh_config(workdir: Path, image: Image, port: int) -> Path:
    """A client config for ``genoa-e2e``, strict about the VM's real host key."""
    known = workdir / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {image.host_key_pub.read_text().strip()}\n")
    config = workdir / "ssh_config"
    config.write_text(
        f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
        f"  IdentityFile {image.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  ConnectTimeout 10\n"
    )
    return config


# --- the artefacts and the checks ------------------------------------------------------------


def kernel_release_of(deb: Path) -> str:
    match = re.fullmatch(r"linux-image-(?P<krel>[^_]+)_[^_]+_amd64\.deb", deb.name)
    if match is None:
        msg = f"{deb.name} is not a linux-image package file"
        raise E2eFailure(msg)
    return match.group("krel")


def publish_kernel(root: Path, deb: Path, source: dict[str, str]) -> Path:
    """``root/<STACK>/kernel/`` as `snpapp build kernel` publishes it: the .deb and a manifest."""
    directory = root / STACK / "kernel"
    directory.mkdir(parents=True)
    shutil.copyfile(deb, directory / deb.name)
    manifest = Manifest(stack=STACK, component="kernel", files=describe_files(directory),
                        source=source)  # fmt: skip
    manifest.save(directory)
    return root


def snpapp(vm: VirtualMachine, *args: str, timeout: float = 3600) -> proc.Completed:
    argv = [sys.executable, "-m", "snpappliance", "deploy", "--host", ALIAS,
            "--ssh-config", str(vm.ssh_config), "--prefix", PREFIX, *args]  # fmt: skip
    say("$ snpapp " + " ".join(argv[3:]))
    result = proc.run(argv, timeout=timeout, check=False, env={"PYTHONPATH": str(REPO)})
    (vm.workdir / "snpapp.log").open("a").write(
        f"$ {' '.join(argv)}\n[exit {result.returncode}]\n{result.stdout}{result.stderr}\n"
    )
    return result


def expect(condition: bool, what: str, result: proc.Completed | None = None) -> None:
    if condition:
        say(f"ok: {what}")
        return
    output = f"\n--- output ---\n{result.stdout}{result.stderr}" if result else ""
    msg = f"not as expected: {what}{output}"
    raise E2eFailure(msg)


def grub_env(vm: VirtualMachine) -> dict[str, str]:
    lines = vm.ssh("grub-editenv list").stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def running_kernel(vm: VirtualMachine) -> str:
    return vm.ssh("uname -r").stdout.strip()


def reboot(vm: VirtualMachine) -> None:
    """A plain reboot (what a power cycle after a failed deploy amounts to)."""
    before = vm.ssh("cat /proc/sys/kernel/random/boot_id").stdout
    vm.ssh("systemctl reboot", check=False, timeout=60)
    start = time.monotonic()
    while time.monotonic() - start < BOOT_TIMEOUT_S:
        vm.wait_for_ssh()
        answer = vm.ssh("cat /proc/sys/kernel/random/boot_id", check=False, timeout=30)
        if answer.ok and answer.stdout != before:
            return
        time.sleep(5)
    msg = f"the VM did not come back after a plain reboot ({vm.console})"
    raise E2eFailure(msg)


def run_checks(vm: VirtualMachine, image: Image, work: Path, timings: Timings) -> None:
    old = image.kernel
    expect(running_kernel(vm) == old, f"the VM boots {old}")
    new_pkg = kernel_pair()[1]
    new_deb = fetch_deb(new_pkg)
    new = kernel_release_of(new_deb)
    source = {"kind": "debian", "suite": "bookworm", "package": new_pkg.name,
              "version": new_pkg.version}  # fmt: skip
    release_a = publish_kernel(work / "artifacts-a", image.kernel_deb,
                               {"kind": "debian", "suite": "bookworm"})  # fmt: skip
    release_b = publish_kernel(work / "artifacts-b", new_deb, source)
    say(f"release A: kernel {old}; release B: kernel {new} ({new_pkg.version})")

    with timings.measure("deploy A (kernel the VM runs, no reboot)"):
        result = snpapp(vm, "--stack", STACK, "--artifacts", str(release_a))
    expect(result.ok, "deploy A succeeds", result)

    with timings.measure("deploy B --reboot (new kernel, reboot, doctor)"):
        result = snpapp(vm, "--stack", STACK, "--artifacts", str(release_b), "--reboot")
    # The CLI wraps its messages to the terminal width: compare with spaces squeezed.
    output = " ".join((result.stdout + result.stderr).split())
    expect(result.returncode != 0, "deploy B --reboot fails (doctor cannot pass without SNP)",
           result)  # fmt: skip
    expect(f"runs {new} but the SEV-SNP preflight fails" in output,
           "it says the VM runs the new kernel and doctor failed", result)  # fmt: skip
    expect("was not made the default" in output, "it says the kernel was not made the default",
           result)  # fmt: skip
    expect(f"snpapp deploy --rollback --host {ALIAS}" in output, "it says how to roll back",
           result)  # fmt: skip
    expect(running_kernel(vm) == new, f"the VM runs {new} after deploy --reboot")
    env = grub_env(vm)
    expect(new not in env.get("saved_entry", ""), f"{new} is not the GRUB default ({env})")

    with timings.measure("plain reboot after the refused deploy"):
        reboot(vm)
    now = running_kernel(vm)
    expect(now == old, f"a plain reboot returns to {old} (the hint's promise; runs {now})")

    with timings.measure("deploy --rollback --reboot"):
        result = snpapp(vm, "--rollback", "--reboot")
    # The CLI wraps its messages to the terminal width: compare with spaces squeezed.
    output = " ".join((result.stdout + result.stderr).split())
    expect(result.ok, "deploy --rollback --reboot succeeds", result)
    expect(f"runs {old} again" in output, f"it says the VM runs {old} again", result)
    expect(running_kernel(vm) == old, f"the VM runs {old} after the rollback")
    env = grub_env(vm)
    expect(old in env.get("saved_entry", ""), f"{old} is the GRUB default ({env})")
    links = vm.ssh(f"readlink {PREFIX}/current {PREFIX}/previous").stdout.split()
    expect(len(links) == 2 and links[0] != links[1], f"current and previous swapped ({links})")


def check_tools() -> None:
    if os.geteuid() != 0:
        msg = "run as root: debootstrap and mkfs.ext4 -d (file ownership) need it"
        raise E2eFailure(msg)
    for tool in ("debootstrap", "qemu-system-x86_64", "qemu-img", "mkfs.ext4", "sfdisk",
                 "mformat", "mcopy", "ssh", "ssh-keygen", "dpkg"):  # fmt: skip
        if shutil.which(tool) is None:
            msg = (
                f"{tool} is not installed (Debian: apt-get install debootstrap "
                "qemu-system-x86 qemu-utils fdisk mtools openssh-client ovmf)"
            )
            raise E2eFailure(msg)
    for firmware in (OVMF_CODE, OVMF_VARS):
        if not firmware.is_file():
            msg = f"{firmware} is missing (apt-get install ovmf)"
            raise E2eFailure(msg)


def failed(work: Path, timings: Timings) -> int:
    timings.show()
    say(f"logs (console, snpapp output) kept in {work}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the cached VM image.")
    parser.add_argument("--keep", action="store_true", help="Keep the work directory.")
    args = parser.parse_args(argv)
    # Stopped by a signal, still kill QEMU and the deploy under way (the with blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    timings = Timings([])
    work = Path(tempfile.mkdtemp(prefix="snpapp-e2e-deploy-"))
    try:
        check_tools()
        image = Image(image_dir())
        if args.rebuild or not image.complete:
            with timings.measure("image build (debootstrap, disk, first boot)"):
                image = build_image(work, kernel_pair()[0])
        else:
            say(f"reusing the VM image in {image.directory}")
        with VirtualMachine.start(image, image.disk, work / "vm", overlay=True) as vm:
            with timings.measure("boot to SSH"):
                vm.wait_for_ssh()
            run_checks(vm, image, work, timings)
    except E2eFailure as exc:
        say(f"FAILED: {exc}")
        return failed(work, timings)
    except SnpappError as exc:
        say(f"FAILED: {exc.message}")
        for extra in (exc.detail, exc.hint):
            if extra:
                print(extra)
        return failed(work, timings)
    say("PASSED: deploy --reboot and --rollback --reboot on a real (virtual) machine")
    timings.show()
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
