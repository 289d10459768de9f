"""Console output: one stderr console, log set-up, and timed steps."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Progress and diagnostics go to stderr, so piping the primary output leaves them on screen.
console = Console(stderr=True, highlight=False)

#: The primary output (tables, status, results, --json, paths) goes to stdout, so
#: `| less` and `| grep` see it. Print paths with ``soft_wrap=True``: never cut.
out = Console(highlight=False)

log = logging.getLogger("snpapp")


def setup_logging(*, debug: bool) -> None:
    """Configure the ``snpapp`` logger once, at the CLI edge."""
    handler = RichHandler(console=console, show_path=False, show_time=debug, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("snpapp")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """Announce a step, then report it done (✓) or failed (✗) with its duration."""
    console.print(f"[bold]▸[/bold] {title} …")
    start = time.monotonic()
    try:
        yield
    except BaseException:
        console.print(f"  [red]✗[/red] {title} [dim]({time.monotonic() - start:.1f} s)[/dim]")
        raise
    console.print(f"  [green]✓[/green] {title} [dim]({time.monotonic() - start:.1f} s)[/dim]")
