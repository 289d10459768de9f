"""``snpapp report``: statistics, figures and the PDF report of a campaign or results file,
or the comparison of several campaigns' overheads."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated, Literal

import typer

from snpappliance.cli.app import app
from snpappliance.errors import InterruptedByUser
from snpappliance.report.pdf import PdfRenderer

#: The values of :class:`snpappliance.report.stats.analysis.CiMethod`, spelt out so that every other
#: command starts without importing scipy and matplotlib (a unit test keeps them equal).
CiChoice = Literal["t", "normal"]

HELP = """\
Render the statistics, figures and PDF report of a campaign or a results file;
given several, compare their SNP overheads.

RESULTS is a campaign directory (campaigns/<id>/, with results.csv) or a results
file (.csv or .jsonl) in the long format: columns scenario, metric, value, and
optionally workload, unit, rep, host, run_id, attempt, status, started_at. Rows
whose status is not ok are counted in the report but left out of the statistics.
Without RESULTS the most recent campaign under ./campaigns/ is used.

The baseline is --baseline, else the campaign's declared baseline, else the
first scenario in the file. Every other scenario is compared with it per metric
(Welch t, Mann–Whitney U, Cliff's δ with a bootstrap CI, Holm-adjusted p).

Output (default: <campaign>/report/ for a campaign, else ./report/), replaced
as a whole and only once everything is rendered:

  report.pdf, report.html   the report (synthesis, provenance, methodology, figures, tables)
  figures/*.svg, *.png      histogram+KDE, Q–Q, violin+swarm, ridgeline, run order
  stats/*.csv, summary.json the statistics at full precision

The path of report.pdf is printed on stdout.

Several campaigns (RESULTS A B …) are compared, the first as the reference,
like benchstat's old/new. For each campaign, workload and metric: the overhead
of each scenario against the campaign's baseline (% change of medians,
positive = worse, e.g. slower or lower throughput) with a percentile-bootstrap
95 % CI (10 000 resamples, seeded). Then, per workload, metric and scenario
name, each later campaign's overhead minus the reference's, in percentage
points, with its bootstrap CI and a bootstrap test, Holm-adjusted across the
whole comparison. Each campaign is labelled by its spec's name, else its
directory's; its baseline is --baseline, else the one it declares (a results
file needs --baseline). Emulated campaigns are labelled as not SNP measurements.
Output (default: ./comparison/):

  report.pdf, report.html, comparison.md   overheads, differences, one section per campaign
  figures/overheads.svg, .png              the overheads of every campaign with their CIs
  stats/comparison_*.csv, comparison.json  full precision; the method, seed and sources
  campaigns/<n>-<label>/                   each campaign's own full report

Examples:

  snpapp report                                  # latest campaign
  snpapp report campaigns/<id>/ --baseline sev_off
  snpapp report examples/host-sysbench/results.csv --out /tmp/report --ci normal
  snpapp report campaigns/genoa-2025/ campaigns/upstream-2025/ --out /tmp/compare
"""


@app.command("report", help=HELP)
def report_command(
    results: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Campaign directory or .csv/.jsonl results file (default: the latest "
            "campaign); two or more are compared, the first as the reference",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="NAME",
            help="Scenario every other one is compared with, in every campaign "
            "(default: the campaign's declared baseline, else the first scenario; "
            "a comparison of results files needs it)",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Report directory, replaced as a whole (default: <campaign>/report or "
            "./report; ./comparison for several campaigns)",
            show_default=False,
        ),
    ] = None,
    no_outlier_filter: Annotated[
        bool,
        typer.Option(
            "--no-outlier-filter",
            help="Keep values outside the Tukey fences (Q1 − 1.5·IQR, Q3 + 1.5·IQR) "
            "(default: remove them, once per arm)",
        ),
    ] = False,
    ci: Annotated[
        CiChoice,
        typer.Option(
            "--ci",
            help="95 % CI of the mean: t = mean ± t(0.975, n−1)·SEM, "
            "normal = mean ± 1.96·SEM (the paper's)",
        ),
    ] = "t",
) -> None:
    # WeasyPrint is imported in the PDF renderer's own process, meanwhile this one imports
    # matplotlib, seaborn and scipy here: they are only needed when a report is made.
    with PdfRenderer.start() as pdf:
        try:
            from snpappliance.report.publish import render_report
            from snpappliance.report.stats.analysis import CiMethod, StatsOptions
        except KeyboardInterrupt:
            msg = "loading the report's libraries stopped; no report was published"
            raise InterruptedByUser(msg) from None
        # The libraries' objects live until exit: the garbage collector need not walk
        # them again at each full collection, and forked workers share their pages.
        gc.freeze()

        options = StatsOptions(outlier_filter=not no_outlier_filter, ci=CiMethod(ci))
        sources = results or []
        if len(sources) > 1:
            try:
                from snpappliance.report.campaigns.compare import render_comparison
            except KeyboardInterrupt:
                msg = "loading the report's libraries stopped; no report was published"
                raise InterruptedByUser(msg) from None
            target = render_comparison(
                sources, out=out, baseline=baseline, options=options, pdf=pdf
            )
        else:
            source = sources[0] if sources else None
            target = render_report(source, out=out, baseline=baseline, options=options, pdf=pdf)
    typer.echo(str(target))
