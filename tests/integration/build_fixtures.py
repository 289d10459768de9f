"""Small fixture components for build tests: a local git repository, a patch, a toolchain.

The repository's commits have fixed dates, so their SHAs (and with them the
toolchain image tags) are the same on every run.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass
from pathlib import Path

from snpappliance import proc
from tests.conftest import require_program

GIT_ENV = {
    "GIT_AUTHOR_NAME": "snpapp tests",
    "GIT_AUTHOR_EMAIL": "tests@snpapp.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "snpapp tests",
    "GIT_COMMITTER_EMAIL": "tests@snpapp.invalid",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}

BUILD_SH = """\
#!/bin/sh
set -e
cp greeting.txt "$1/alpha.txt"
uname -m > "$1/arch.txt"
"""

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG PACKAGES
RUN echo "tool image; pinned packages: ${PACKAGES:-none}" > /etc/snpapp-tool
"""


def greeting_patch(old: str, new: str) -> str:
    return textwrap.dedent(f"""\
        Subject: [PATCH] change the greeting

        --- a/greeting.txt
        +++ b/greeting.txt
        @@ -1 +1 @@
        -{old}
        +{new}
        """)


@dataclass(frozen=True)
class FixtureStack:
    root: Path
    path: Path
    repo: Path
    commit: str

    def write_patch(self, text: str) -> None:
        """Replace alpha's patch and record its new hash in the stack lock."""
        patch = self.root / "patches" / "fixture" / "alpha" / "0001-greeting.patch"
        old = hashlib.sha256(patch.read_bytes()).hexdigest()
        patch.write_text(text)
        new = hashlib.sha256(text.encode()).hexdigest()
        self.path.write_text(self.path.read_text().replace(old, new))


def _git(repo: Path, *args: str) -> str:
    return proc.run(["git", *args], cwd=repo, env=GIT_ENV).stdout.strip()


def make_repo(root: Path) -> tuple[Path, str]:
    repo = root / "upstream"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "greeting.txt").write_text("hello\n")
    (repo / "build.sh").write_text(BUILD_SH)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "fixture source")
    commit = _git(repo, "rev-parse", "HEAD")
    (repo / "greeting.txt").write_text("a later commit the build must not see\n")
    _git(repo, "commit", "-q", "-am", "later")
    return repo, commit


def stack_toml(repo: Path, commit: str, patch_sha: str, extra: str = "") -> str:
    source = f'{{ kind = "git", url = "file://{repo}", ref = "main", commit = "{commit}" }}'
    return (
        textwrap.dedent(f"""\
        [stack]
        name = "fixture"
        description = "build test fixture"
        patches = "patches"
        dockerfiles = "Dockerfiles"

        [base]
        release = "bookworm"
        snapshot = "20261125T120000Z"

        [components.alpha]
        recipe = "tool"
        source = {source}
        command = 'sh build.sh "$OUT"'

        [[components.alpha.patches]]
        file = "0001-greeting.patch"
        sha256 = "{patch_sha}"

        [components.beta]
        recipe = "tool"
        source = {source}
        command = 'wc -c < greeting.txt > "$OUT/beta.txt"'

        [components.bundle]
        recipe = "tool"
        depends = ["alpha"]
        source = {{ kind = "none" }}
        command = 'cat /etc/snpapp-tool "$DEPS/alpha/alpha.txt" > "$OUT/bundle.txt"'
        """)
        + extra
    )


def make_fixture_stack(root: Path, extra: str = "") -> FixtureStack:
    """A stack ``fixture`` with components alpha (patched), beta and bundle (needs alpha)."""
    for program in ("git", "patch", "rsync"):
        require_program(program)
    repo, commit = make_repo(root)
    patch = greeting_patch("hello", "hello, snp")
    patch_dir = root / "patches" / "fixture" / "alpha"
    patch_dir.mkdir(parents=True)
    (patch_dir / "0001-greeting.patch").write_text(patch)
    tool = root / "Dockerfiles" / "tool"
    tool.mkdir(parents=True)
    (tool / "Dockerfile").write_text(DOCKERFILE)
    path = root / "fixture.toml"
    sha = hashlib.sha256(patch.encode()).hexdigest()
    path.write_text(stack_toml(repo, commit, sha, extra))
    return FixtureStack(root, path, repo, commit)
