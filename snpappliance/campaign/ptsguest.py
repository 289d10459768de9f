"""The Phoronix Test Suite smoke run inside the cloud guest: packages, configuration, script.

The script (pure text, run by the guest over SSH inside the usual SNP markers):

1. ``yes | phoronix-test-suite enterprise-setup``: accepts the user agreement once and
   turns anonymous usage reporting off, so nothing ever waits for an answer;
2. writes ``~/.phoronix-test-suite/user-config.xml`` with the batch-mode settings
   (save results, no browser, no upload, no prompts for a name, identifier or
   description, every test option combination) and ``DynamicRunCount`` off;
3. ``phoronix-test-suite batch-install`` then ``batch-run`` of the declared tests with
   ``TEST_RESULTS_NAME``, ``TEST_RESULTS_IDENTIFIER`` and ``FORCE_TIMES_TO_RUN`` (the
   spec's iterations) in the environment;
4. prints :data:`COMPOSITE_MARKER` and the saved ``composite.xml`` (the host parses
   it with :mod:`snpappliance.workloads.pts`).

The tests are downloaded and built in every fresh guest (each run boots a
fresh overlay), so the guest needs network access to openbenchmarking.org and
the tests' download mirrors.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snpappliance.campaign.spec import PtsSmoke

#: Ubuntu packages of a guest that runs the smoke tests (universe: phoronix-test-suite;
#: the PHP it runs on; compilers and unzip to build the tests from source).
PTS_PACKAGES = ("phoronix-test-suite", "php-cli", "php-xml", "build-essential", "unzip")
RESULTS_NAME = "snpapp-smoke"
RESULTS_IDENTIFIER = "snpapp"
#: The line after which the guest prints composite.xml.
COMPOSITE_MARKER = "===SNP-PTS-COMPOSITE==="
#: Where PTS saves a result for a normal user, and for root.
RESULT_DIRS = (
    "$HOME/.phoronix-test-suite/test-results",
    "/var/lib/phoronix-test-suite/test-results",
)

USER_CONFIG = """<?xml version="1.0"?>
<PhoronixTestSuite>
  <Options>
    <OpenBenchmarking>
      <AnonymousUsageReporting>FALSE</AnonymousUsageReporting>
    </OpenBenchmarking>
    <TestResultValidation>
      <DynamicRunCount>FALSE</DynamicRunCount>
    </TestResultValidation>
    <BatchMode>
      <SaveResults>TRUE</SaveResults>
      <OpenBrowser>FALSE</OpenBrowser>
      <UploadResults>FALSE</UploadResults>
      <PromptForTestIdentifier>FALSE</PromptForTestIdentifier>
      <PromptForTestDescription>FALSE</PromptForTestDescription>
      <PromptSaveName>FALSE</PromptSaveName>
      <RunAllTestCombinations>TRUE</RunAllTestCombinations>
      <Configured>TRUE</Configured>
    </BatchMode>
  </Options>
</PhoronixTestSuite>
"""


def pts_env(workload: PtsSmoke) -> dict[str, str]:
    """The environment of the batch run: result name and identifier, exact run count."""
    return {
        "TEST_RESULTS_NAME": RESULTS_NAME,
        "TEST_RESULTS_IDENTIFIER": RESULTS_IDENTIFIER,
        "TEST_RESULTS_DESCRIPTION": "snpapp macro smoke test",
        "FORCE_TIMES_TO_RUN": str(workload.iterations),
    }


def pts_argv(workload: PtsSmoke, action: str) -> list[str]:
    """``phoronix-test-suite batch-install|batch-run pts/<test> ...``."""
    return ["phoronix-test-suite", action, *(f"pts/{test}" for test in workload.tests)]


def pts_script(workload: PtsSmoke) -> str:
    """The guest shell script of one smoke run (see the module docstring)."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in pts_env(workload).items())
    candidates = " ".join(f'"{d}/{RESULTS_NAME}/composite.xml"' for d in RESULT_DIRS)
    return (
        "yes | phoronix-test-suite enterprise-setup >/dev/null\n"
        'mkdir -p "$HOME/.phoronix-test-suite"\n'
        f"cat > \"$HOME/.phoronix-test-suite/user-config.xml\" <<'SNPAPP_PTS_CONFIG'\n"
        f"{USER_CONFIG}SNPAPP_PTS_CONFIG\n"
        f"{shlex.join(pts_argv(workload, 'batch-install'))} </dev/null || exit $?\n"
        f"env {env} {shlex.join(pts_argv(workload, 'batch-run'))} </dev/null\n"
        "rc=$?\n"
        f"for f in {candidates}; do\n"
        f'  if [ -f "$f" ]; then echo {COMPOSITE_MARKER}; cat "$f"; break; fi\n'
        "done\n"
        "exit $rc\n"
    )
