"""``snpapp report A B …``: the SNP overhead of several campaigns, compared and published.

Everything is checked before anything is written, then rendered into a
staging directory and published in one rename, like a single report
(:mod:`snpappliance.report.publish`). Each campaign's own report (its figures
and tables) is rendered by the single-campaign machinery into
``campaigns/<n>-<label>/`` of the comparison and linked from its section.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance import __version__
from snpappliance.errors import InputError, InterruptedByUser, OutputError
from snpappliance.fsutil import atomic_write_text, sha256_file, staged_dir
from snpappliance.report.campaigns.difference import compare_campaigns
from snpappliance.report.campaigns.figure import draw_overheads
from snpappliance.report.campaigns.labels import report_dir_name
from snpappliance.report.campaigns.overhead import (
    CI_LEVEL,
    RESAMPLES,
    Overhead,
    campaign_overheads,
)
from snpappliance.report.campaigns.render import (
    MARKDOWN_NAME,
    CampaignEntry,
    difference_rows,
    emulated_banner,
    markdown,
    overhead_rows,
    render_html,
    synthesis,
    write_stats,
)
from snpappliance.report.campaigns.sources import Campaign, load_campaigns
from snpappliance.report.progress import Tracker
from snpappliance.report.publish import (
    HTML_NAME,
    PDF_NAME,
    check_out,
    render_report,
    write_manifest,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.report.campaigns.difference import Difference
    from snpappliance.report.pdf import PdfRenderer
    from snpappliance.report.stats.analysis import StatsOptions

#: Where a comparison goes without --out (a single report goes to <campaign>/report).
DEFAULT_OUT = "comparison"
CAMPAIGNS_DIR = "campaigns"
FIGURES_DIR = "figures"
FIGURE_NAME = "overheads"
COMPARED = "each later campaign against the first (the reference), as benchstat's old/new"


def method_text(options: StatsOptions, n_differences: int) -> str:
    """The methodology paragraph, shared by the HTML, the PDF and the markdown."""
    filtered = (
        "Values outside the Tukey fences (Q1 − 1.5·IQR, Q3 + 1.5·IQR) are removed once per "
        "arm first, as in each campaign's own report."
        if options.outlier_filter
        else "Every ok value is used (--no-outlier-filter)."
    )
    return (
        "Method. The overhead of a scenario is the % change of its median against the "
        "median of its campaign's baseline, per workload and metric, signed so that "
        "positive is worse (a throughput that drops, a time that grows). "
        f"{filtered} Its 95 % CI is a percentile bootstrap: both arms are resampled "
        f"independently with replacement, {RESAMPLES} times, with seed {options.seed} "
        "(and a CRC-32 of the campaign and arm names). Campaigns are compared "
        f"{COMPARED}, per workload, metric and scenario name: the difference of overheads is "
        "in percentage points (pp), its CI the percentile interval of the replicates' "
        "differences, and its p-value the two-sided bootstrap test of no difference, "
        "2·min(#{D* ≤ 0} + 1, #{D* ≥ 0} + 1)/(B + 1). The "
        f"{n_differences} p-values of the report form one family, adjusted with Holm's "
        f"step-down method; a difference is significant when its adjusted p < {options.alpha:g}."
    )


def _measured(overheads: Sequence[Overhead]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((o.workload, o.metric) for o in overheads))


def _pairs_text(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{w} · {m}" if w else m for w, m in pairs) or "nothing"


def check_comparable(
    campaigns: Sequence[Campaign], overheads: Sequence[Sequence[Overhead]]
) -> None:
    """Every campaign has an overhead, and shares one with the reference (the first)."""
    for campaign, found in zip(campaigns, overheads, strict=True):
        if not found:
            msg = (
                f"campaign {campaign.label!r}: its baseline {campaign.baseline!r} measured no "
                "workload and metric that another of its scenarios measured (with status ok)"
            )
            raise InputError(msg, hint="pass --baseline with the scenario the others ran against")
    reference, ref_found = campaigns[0], overheads[0]
    ref_pairs = set(_measured(ref_found))
    for campaign, found in zip(campaigns[1:], overheads[1:], strict=True):
        pairs = _measured(found)
        if not ref_pairs & set(pairs):
            msg = (
                f"campaigns {reference.label!r} and {campaign.label!r} share no (workload, metric)"
            )
            raise InputError(
                msg,
                detail=f"{reference.label}: {_pairs_text(_measured(ref_found))}\n"
                f"{campaign.label}: {_pairs_text(pairs)}",
                hint="compare campaigns that ran the same workloads (a metric is compared "
                "only within its workload)",
            )
        if not {o.key for o in ref_found} & {o.key for o in found}:
            msg = (
                f"campaigns {reference.label!r} and {campaign.label!r} share workloads and "
                "metrics but no scenario name besides the baseline"
            )
            raise InputError(
                msg,
                detail=f"{reference.label}: {', '.join(sorted({o.scenario for o in ref_found}))}\n"
                f"{campaign.label}: {', '.join(sorted({o.scenario for o in found}))}",
                hint="overheads are matched by scenario name; give the scenarios the same "
                "names in both campaign specs",
            )


def not_compared(overheads: Sequence[Sequence[Overhead]]) -> list[str]:
    """The arms that some campaign measured and the reference or a later one did not."""
    reference = {o.key for o in overheads[0]}
    notes = []
    for found in overheads[1:]:
        keys = {o.key for o in found}
        for o in found:
            if o.key not in reference:
                notes.append(f"{o.campaign}: {_arm(o)} (the reference did not measure it)")
        for o in overheads[0]:
            if o.key not in keys:
                notes.append(f"{o.campaign}: {_arm(o)} (not measured by {found[0].campaign})")
    return list(dict.fromkeys(notes))


def _arm(o: Overhead) -> str:
    where = f"{o.workload} · {o.metric}" if o.workload else o.metric
    return f"{where} · {o.scenario}"


def campaign_entry(campaign: Campaign, report_dir: str) -> CampaignEntry:
    results, info = campaign.results, campaign.results.campaign
    return CampaignEntry(
        label=campaign.label,
        shown=campaign.shown,
        emulated=campaign.emulated,
        source=str(results.source.resolve()),
        sha256=sha256_file(results.source),
        campaign_id=info.campaign_id if info is not None else "(results file, no campaign)",
        recorded_label=campaign.recorded_label or "",
        baseline=campaign.baseline,
        baseline_reason=campaign.baseline_reason,
        rows=f"{len(results.ok)} ok of {len(results.frame)}",
        report_dir=report_dir,
    )


def method_record(
    entries: Sequence[CampaignEntry], options: StatsOptions, n_differences: int, generated: str
) -> dict[str, Any]:
    """``stats/comparison.json``: how every number was computed, and from what."""
    return {
        "kind": "snpapp comparison",
        "snpapp": __version__,
        "generated": generated,
        "reference": entries[0].label,
        "compared": COMPARED,
        "overhead": "100·(median(scenario)/median(baseline) − 1), negated for metrics where "
        "higher is better: positive = worse",
        "ci": {
            "method": "percentile bootstrap, arms resampled independently",
            "level": CI_LEVEL,
            "resamples": RESAMPLES,
            "seed": options.seed,
        },
        "test": "two-sided bootstrap test of difference 0: 2·min(#{D*<=0}+1, #{D*>=0}+1)/(B+1)",
        "adjustment": f"Holm over all {n_differences} differences",
        "alpha": options.alpha,
        "outlier_filter": options.outlier_filter,
        "campaigns": [
            {
                "label": e.label,
                "emulated": e.emulated,
                "source": e.source,
                "sha256": e.sha256,
                "campaign_id": e.campaign_id,
                "baseline": e.baseline,
                "baseline_reason": e.baseline_reason,
                "report": e.report_dir,
            }
            for e in entries
        ],
    }


def page_context(
    entries: Sequence[CampaignEntry],
    overheads: Sequence[Sequence[Overhead]],
    differences: Sequence[Difference],
    options: StatsOptions,
    generated: str,
) -> dict[str, Any]:
    names = " vs ".join(e.label for e in entries)
    return {
        "title": f"snpapp comparison — {names}",
        "banner": emulated_banner(entries),
        "generated": generated,
        "version": __version__,
        "synthesis": synthesis(differences, options.alpha),
        "campaigns": entries,
        "figure": {
            "svg": f"{FIGURES_DIR}/{FIGURE_NAME}.svg",
            "png": f"{FIGURES_DIR}/{FIGURE_NAME}.png",
        },
        "difference_note": f"Reference: {entries[0].shown}. Difference = overhead of the "
        "campaign − overhead of the reference, in percentage points (positive: larger "
        f"overhead); ~ = not significant at α = {options.alpha:g} after Holm.",
        "differences": difference_rows(differences, options.alpha),
        "sections": [
            {"campaign": e, "overheads": overhead_rows(found)}
            for e, found in zip(entries, overheads, strict=True)
        ],
        "not_compared": not_compared(overheads),
        "method_text": method_text(options, len(differences)),
    }


def render_comparison(
    sources: Sequence[Path],
    *,
    out: Path | None,
    baseline: str | None,
    options: StatsOptions,
    pdf: PdfRenderer,
) -> Path:
    """Compare the campaigns ``sources`` (the first is the reference) into ``out``; return
    the PDF (every PDF rendered by ``pdf``). Ctrl-C publishes nothing and leaves ``out``
    as it was."""
    target = out if out is not None else Path(DEFAULT_OUT)
    tracker = Tracker()
    try:
        return _render(sources, target, baseline, options, tracker, pdf)
    except KeyboardInterrupt:
        msg = (
            f"{tracker.current or 'starting'} stopped; nothing was published "
            f"({target} is unchanged)"
        )
        raise InterruptedByUser(msg) from None


def _render(
    sources: Sequence[Path],
    target: Path,
    baseline: str | None,
    options: StatsOptions,
    tracker: Tracker,
    pdf: PdfRenderer,
) -> Path:
    with tracker.step(f"loading {len(sources)} campaigns"):
        campaigns = load_campaigns(sources, baseline)
    check_out(target)
    with tracker.step("computing overheads and their differences", total=len(campaigns)) as advance:
        overheads = []
        for campaign in campaigns:
            overheads.append(
                campaign_overheads(
                    campaign, outlier_filter=options.outlier_filter, seed=options.seed
                )
            )
            advance(1)
        check_comparable(campaigns, overheads)
        differences = compare_campaigns(overheads)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    dirs = [f"{CAMPAIGNS_DIR}/{report_dir_name(i, c.label)}" for i, c in enumerate(campaigns, 1)]
    entries = [campaign_entry(c, d) for c, d in zip(campaigns, dirs, strict=True)]
    try:
        with staged_dir(target) as stage:
            for campaign, sub in zip(campaigns, dirs, strict=True):
                render_report(
                    campaign.source, out=stage / sub, baseline=baseline, options=options, pdf=pdf
                )
            with tracker.step("writing the comparison (stats/, figures/, report.pdf)"):
                write_stats(
                    stage,
                    [o for found in overheads for o in found],
                    differences,
                    method_record(entries, options, len(differences), generated),
                    {c.label: c.emulated for c in campaigns},
                )
                (stage / FIGURES_DIR).mkdir()
                stamp = emulated_banner(entries)
                draw_overheads(
                    overheads,
                    [e.shown for e in entries],
                    stage / FIGURES_DIR,
                    FIGURE_NAME,
                    stamp=stamp,
                )
                context = page_context(entries, overheads, differences, options, generated)
                atomic_write_text(stage / MARKDOWN_NAME, markdown(context))
                (stage / HTML_NAME).write_text(
                    render_html(context, for_pdf=False), encoding="utf-8"
                )
                pdf.submit(render_html(context, for_pdf=True), stage, stage / PDF_NAME)
                pdf.wait()
            write_manifest(stage)
            check_out(target)
    except OSError as exc:
        msg = f"cannot write the comparison to {target}: {exc.strerror or exc}"
        raise OutputError(
            msg,
            hint="check free space and permissions, or choose another location with --out",
        ) from exc
    return target / PDF_NAME
