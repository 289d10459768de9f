"""Checks of the snpapp release deployed on a host (pure, over :class:`HostFacts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.doctor.checks import Check, Status, outcome

if TYPE_CHECKING:
    from snpappliance.doctor.facts import HostFacts

DEPLOY_HINT = "deploy one with `snpapp deploy --host <host>`"


def _not_captured(id: str, title: str, facts: HostFacts) -> Check | None:
    if "release_path" not in facts.unseen:
        return None
    return outcome(id, title, Status.UNKNOWN, "the release was not captured", "", required=False)


def check_release(facts: HostFacts) -> Check:
    title = "deployed release verified against its SHA256SUMS"
    if (unknown := _not_captured("release", title, facts)) is not None:
        return unknown
    release = facts.release
    if release is None:
        return outcome(
            "release", title, Status.WARN, "no snpapp release deployed", DEPLOY_HINT,
            required=False,
        )  # fmt: skip
    if release.info is None:
        return outcome(
            "release", title, Status.FAIL, f"{release.path} has no release.json",
            "deploy again with `snpapp deploy --force`",
        )  # fmt: skip
    if release.sums_exit == 0:
        return outcome("release", title, Status.PASS, f"{release.path}: every file matches")
    problems = "; ".join(release.sums_problems[:3]) or "SHA256SUMS missing"
    return outcome(
        "release", title, Status.FAIL, f"{release.path}: {problems}",
        "files of the release were changed or lost: deploy again with `snpapp deploy --force`",
    )  # fmt: skip


def check_release_parts(facts: HostFacts) -> Check:
    title = "release has QEMU, OVMF.fd and a host kernel"
    if (unknown := _not_captured("release_parts", title, facts)) is not None:
        return unknown
    release = facts.release
    if release is None or release.info is None:
        return outcome(
            "release_parts", title, Status.WARN, "no release", DEPLOY_HINT, required=False
        )
    info = release.info
    roles = {"QEMU": info.qemu, "OVMF.fd": info.ovmf, "host kernel": info.kernel_release}
    missing = [name for name, value in roles.items() if not value]
    if not missing:
        return outcome(
            "release_parts", title, Status.PASS,
            f"{info.qemu}, {info.ovmf}, kernel {info.kernel_release}",
        )  # fmt: skip
    return outcome(
        "release_parts", title, Status.FAIL, f"missing: {', '.join(missing)}",
        "build the missing components (`snpapp build all`) and deploy again",
    )  # fmt: skip


def check_release_qemu(facts: HostFacts) -> Check:
    title = "the release's QEMU starts on this host"
    if (unknown := _not_captured("release_qemu", title, facts)) is not None:
        return unknown
    release = facts.release
    if release is None or release.info is None or release.qemu_exit is None:
        return outcome(
            "release_qemu", title, Status.WARN, "no release QEMU to try", DEPLOY_HINT,
            required=False,
        )  # fmt: skip
    if release.qemu_exit == 0:
        return outcome("release_qemu", title, Status.PASS, release.qemu_version)
    return outcome(
        "release_qemu", title, Status.FAIL,
        f"{release.info.qemu} --version: exit status {release.qemu_exit}: {release.qemu_version}",
        "QEMU was built against the build stack's libraries: install the missing ones on the "
        "host (run `ldd` on the binary to see which) or build a stack matching the host's OS",
    )  # fmt: skip


def check_running_kernel(facts: HostFacts) -> Check:
    title = "running kernel is the deployed one"
    if (unknown := _not_captured("running_kernel", title, facts)) is not None:
        return unknown
    release = facts.release
    if release is None or release.info is None or not release.info.kernel_release:
        return outcome(
            "running_kernel", title, Status.WARN, f"running {facts.kernel}; no deployed kernel",
            DEPLOY_HINT, required=False,
        )  # fmt: skip
    wanted = release.info.kernel_release
    if facts.kernel == wanted:
        return outcome("running_kernel", title, Status.PASS, facts.kernel)
    return outcome(
        "running_kernel", title, Status.FAIL, f"running {facts.kernel}, deployed {wanted}",
        "boot the deployed kernel: `snpapp deploy --host <host> --reboot`",
    )  # fmt: skip


RELEASE_CHECKS = (check_release, check_release_parts, check_release_qemu, check_running_kernel)
