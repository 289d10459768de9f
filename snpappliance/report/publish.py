"""``snpapp report``: from a results file or campaign to statistics, figures and a PDF.

Everything is rendered into a staging directory next to the output and
published in one rename (:func:`snpappliance.fsutil.staged_dir`): a failure
leaves a previous report untouched and nothing half-written. Bad input is
detected before anything is written at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe

from snpappliance import __version__
from snpappliance.errors import InputError, InterruptedByUser, OutputError, ReportError
from snpappliance.formats.campaigndir import ENVIRONMENT_FILE, SPEC_FILE
from snpappliance.formats.precision import MAX_SIGNIFICANT
from snpappliance.formats.results import latest_campaign
from snpappliance.fsutil import atomic_write_text, sha256_file, staged_dir
from snpappliance.report.attempts import FinalAttempt, final_attempts, result_places
from snpappliance.report.context import (
    campaign_facts,
    comparison_rows,
    counts_line,
    descriptive_rows,
    excluded_rows,
    note_rows,
    outlier_rows,
    retried_rows,
    scenario_list,
    side_by_side_rows,
    smoke_table,
    synthesis,
)
from snpappliance.report.evidence import (
    INFO_KEY,
    NOT_RECORDED,
    Evidence,
    collect,
    evidence_rows,
    expectation_lines,
    reason_lines,
    status_line,
    tcbs_seen,
    write_evidence_csv,
)
from snpappliance.report.figures.render import FIGURES_DIR, FigureEntry, FigureWriter
from snpappliance.report.figures.style import make_palette
from snpappliance.report.hosts import (
    HostView,
    host_context,
    host_sentence,
    host_views,
    write_host_stats,
)
from snpappliance.report.hoststate import changes_note, host_changes, load_sentence
from snpappliance.report.load import ResultSet, load_results
from snpappliance.report.progress import Tracker
from snpappliance.report.stack import StackRow, host_environments, stack_rows
from snpappliance.report.stats.analysis import (
    EMULATED_LABEL,
    STATS_VERSION,
    Analysis,
    CiMethod,
    StatsOptions,
    analyse,
    planned_comparisons,
    write_stats,
)
from snpappliance.report.stats.effect import ASYMPTOTIC_ABOVE_PAIRS
from snpappliance.report.workers import Workers
from snpappliance.resources import data_dir

if TYPE_CHECKING:
    from snpappliance.report.pdf import PdfRenderer

TEMPLATE = "report.html.j2"
PDF_NAME = "report.pdf"
HTML_NAME = "report.html"
#: The list of files snpapp wrote into a report directory: only a directory whose
#: every file is listed here is ever replaced.
MANIFEST_NAME = "snpapp-report.json"
_MANIFEST_KIND = "snpapp report"


def resolve_source(source: Path | None) -> Path:
    """The results to report on: ``source``, else the latest campaign."""
    if source is not None:
        return source
    latest = latest_campaign()
    if latest is None:
        msg = "no results given and no campaign found under ./campaigns/"
        raise InputError(
            msg,
            hint="run `snpapp campaign` first, or pass a campaign directory or a "
            ".csv/.jsonl results file: snpapp report results.csv",
        )
    return latest


def default_out(source: Path) -> Path:
    """``<campaign>/report`` for a campaign directory, else ``./report``."""
    return source / "report" if source.is_dir() else Path("report")


def write_manifest(report_dir: Path) -> None:
    """List every file under ``report_dir`` (relative paths) in its manifest."""
    files = sorted(
        p.relative_to(report_dir).as_posix()
        for p in report_dir.rglob("*")
        if not p.is_dir() or p.is_symlink()
    )
    data = {"kind": _MANIFEST_KIND, "files": [*files, MANIFEST_NAME]}
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(report_dir / MANIFEST_NAME, text)


def _listed(out: Path) -> set[str] | None:
    """The files ``out``'s manifest lists, or None when it has no readable manifest."""
    try:
        data = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("kind") != _MANIFEST_KIND or not isinstance(files, list):
        return None
    return {str(f) for f in files}


def _foreign(out: Path) -> list[str]:
    """Entries under ``out`` (at any depth) that snpapp did not write there."""
    entries = sorted(out.rglob("*"))
    if not entries:
        return []
    listed = _listed(out)
    if listed is None:
        return [p.relative_to(out).as_posix() for p in entries if p.parent == out]
    parents = {parent.as_posix() for f in listed for parent in Path(f).parents}
    return [
        name
        for p in entries
        if (name := p.relative_to(out).as_posix())
        not in (parents if p.is_dir() and not p.is_symlink() else listed)
    ]


def check_out(out: Path) -> None:
    """Refuse an output location that is not a new, empty or previous report directory.

    A previous report is one whose manifest lists every file in it: a file
    anyone else put there, at any depth, keeps the directory from being replaced.
    """
    if out.exists() and not out.is_dir():
        msg = f"--out {out} exists and is not a directory"
        raise OutputError(
            msg,
            hint="pass a directory for the report (it is created if missing)",
        )
    if not out.is_dir():
        return
    foreign = _foreign(out)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        msg = (
            f"--out {out} holds files that snpapp did not write there ({shown}); "
            "snpapp replaces the whole output directory, so it will not use this one"
        )
        raise OutputError(
            msg,
            hint="pass a new or empty directory, or a previous report directory; move your "
            f"files out of it first (a report of an older snpapp, without {MANIFEST_NAME}, "
            "must be deleted by hand)",
        )


def baseline_reason(results: ResultSet, baseline: str | None) -> str:
    """How the baseline was chosen, in words."""
    if baseline is not None:
        return "chosen with --baseline"
    if results.campaign is not None and results.campaign.baseline:
        return "declared by the campaign (campaign.json)"
    return "first scenario in the results file: no --baseline given, none declared"


def heading_of(results: ResultSet) -> list[tuple[str, bool]]:
    """The title in pieces (text, keep on one line): a campaign id never breaks."""
    campaign = results.campaign
    if campaign is None:
        return [("snpapp report — results file ", False), (results.source.name, True)]
    lead = "snpapp report" if campaign.emulated else "SEV-SNP performance report"
    pieces = [(f"{lead} — campaign ", False), (campaign.campaign_id, True)]
    if not campaign.emulated and campaign.label:
        pieces.append((f": {campaign.label}", False))
    return pieces


def title_of(results: ResultSet) -> tuple[str, str | None]:
    """(title, banner) for the report; the banner is set only for emulated profiles."""
    campaign = results.campaign
    if campaign is not None and campaign.emulated:
        return f"snpapp report — campaign {campaign.campaign_id} — {EMULATED_LABEL}", EMULATED_LABEL
    if campaign is not None:
        label = f": {campaign.label}" if campaign.label else ""
        return f"SEV-SNP performance report — campaign {campaign.campaign_id}{label}", None
    return f"snpapp report — results file {results.source.name}", None


def ci_description(options: StatsOptions) -> str:
    if options.ci is CiMethod.NORMAL:
        return "mean ± 1.96·SEM (normal approximation, as in the paper)"
    return "mean ± t(0.975, n − 1)·SEM (Student t)"


def delta_ci_description(options: StatsOptions) -> str:
    pairs = f"{ASYMPTOTIC_ABOVE_PAIRS:_}".replace("_", " ")
    return (
        f"percentile bootstrap ({options.bootstrap_resamples} resamples, seed {options.seed}) "
        f"up to n₁·n₂ = {pairs} pairs; above that asymptotic: Cliff's (1993) "
        "interval with the unbiased variance and a t quantile, as R effsize::cliff.delta "
        "(each comparison names its method)"
    )


@dataclass(frozen=True)
class ReportInputs:
    """What one report is made of, before anything is drawn."""

    results: ResultSet
    analysis: Analysis
    source: Path
    baseline_reason: str
    generated_at: str
    #: Each host on its own, when the results come from several hosts.
    hosts: list[HostView] = field(default_factory=list)
    #: The final attempt of every committed run (campaign directories only).
    attempts: tuple[FinalAttempt, ...] = ()

    @property
    def campaign_dir(self) -> Path | None:
        return self.source if self.source.is_dir() else None


def campaign_attempts(source: Path, results: ResultSet) -> tuple[FinalAttempt, ...]:
    """The final attempts of ``source``'s committed runs (() for a results file)."""
    if not source.is_dir():
        return ()
    return tuple(final_attempts(source, result_places(results.frame)))


def campaign_evidence(inputs: ReportInputs) -> Evidence:
    """What the committed runs' attestation proved, and what campaign.json expected."""
    campaign = inputs.results.campaign
    expected = campaign.extra.get(INFO_KEY) if campaign is not None else None
    return collect(inputs.attempts, expected if isinstance(expected, dict) else None)


def evidence_context(inputs: ReportInputs, banner: str | None) -> dict[str, Any]:
    """The "Confidentiality evidence" section's variables."""
    evidence = campaign_evidence(inputs)
    if inputs.campaign_dir is None:
        status = f"{NOT_RECORDED.capitalize()}: a results file, not a campaign directory."
    else:
        status = status_line(evidence)
    return {
        "status": status,
        "rows": evidence_rows(evidence),
        "reasons": reason_lines(evidence),
        "expected": expectation_lines(evidence),
        "tcbs": tcbs_seen(evidence),
        "label": banner,
    }


def host_state_line(inputs: ReportInputs) -> str:
    """The provenance row on the host's state across the runs."""
    recorded = [a for a in inputs.attempts if "host_state" in a.record]
    if not recorded:
        return "not recorded per run"
    changes = host_changes(recorded)
    if not changes:
        return f"unchanged during the {len(recorded)} committed run(s) (Appendix A has it)"
    return f"CHANGED during the campaign, {len(changes)} setting(s): see the list below"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


@dataclass(frozen=True)
class StackTable:
    """Table 1 of one host (``host`` is '' for a one-host campaign)."""

    host: str
    rows: list[StackRow]


def stack_tables(campaign_dir: Path | None) -> list[StackTable]:
    """Table 1 per host from the campaign's environment.json and campaign.toml."""
    env = _read_json(campaign_dir / ENVIRONMENT_FILE) if campaign_dir else None
    spec = _read_toml(campaign_dir / SPEC_FILE) if campaign_dir else None
    hosts = host_environments(env)
    if not hosts:
        return [StackTable("", stack_rows(None, spec))]
    many = len(hosts) > 1
    return [StackTable(h if many else "", stack_rows(e, spec)) for h, e in hosts.items()]


def spec_line(results: ResultSet, spec: dict[str, Any] | None) -> str:
    """The campaign spec in one line, or what the results are without one."""
    if spec is None:
        return "none: a results file, not a campaign directory"
    head = spec.get("campaign", {}) if isinstance(spec.get("campaign"), dict) else {}
    parts = [f"{SPEC_FILE}: {head.get('name', results.source.parent.name)}"]
    if "repetitions" in head:
        parts.append(f"{head['repetitions']} repetitions")
    if "order" in head:
        parts.append(f"{head['order']} order")
    if "seed" in head:
        parts.append(f"seed {head['seed']}")
    workloads = spec.get("workloads")
    if isinstance(workloads, dict) and workloads:
        parts.append(f"workloads {', '.join(workloads)}")
    return ", ".join(parts)


def provenance_rows(inputs: ReportInputs, campaign_dir: Path | None) -> list[tuple[str, str]]:
    """At most half a page: what was analysed, on what, by which snpapp, when."""
    results, analysis = inputs.results, inputs.analysis
    spec = _read_toml(campaign_dir / SPEC_FILE) if campaign_dir else None
    env = _read_json(campaign_dir / ENVIRONMENT_FILE) if campaign_dir else None
    hosts = sorted({str(h) for h in results.frame["host"].unique() if str(h)})
    envs = host_environments(env)
    stack = sorted({str(e.get("stack", {}).get("name", "")) for e in envs.values()} - {""})
    releases = sorted({str((e.get("release") or {}).get("name", "")) for e in envs.values()} - {""})
    stack_text = ", ".join(stack) or "not recorded"
    stack_text += f"; deployed release {', '.join(releases)}" if releases else ""
    return [
        ("Results", str(results.source.resolve())),
        ("SHA-256 of the results", sha256_file(results.source)),
        ("Rows", counts_line(results)),
        ("Spec", spec_line(results, spec)),
        ("Stack", f"{stack_text} (Table 1)"),
        ("Hosts", ", ".join(hosts) or "not recorded"),
        ("Baseline scenario", f"{analysis.baseline} ({inputs.baseline_reason})"),
        ("Host state", host_state_line(inputs)),
        ("snpapp", f"{__version__} (statistics version {STATS_VERSION})"),
        ("Generated", inputs.generated_at),
    ]


def page_context(inputs: ReportInputs, figures: list[FigureEntry]) -> dict[str, Any]:
    """The template's variables (all human-formatted)."""
    results, analysis = inputs.results, inputs.analysis
    title, banner = title_of(results)
    options = analysis.options
    campaign_dir = inputs.campaign_dir
    return {
        "evidence": evidence_context(inputs, banner),
        "host_changes": [c.text for c in host_changes(inputs.attempts)],
        "load_text": load_sentence(inputs.attempts),
        "changes_note": changes_note(inputs.attempts),
        "title": title,
        "heading": heading_of(results),
        "banner": banner,
        "scenarios": scenario_list(analysis.scenarios),
        "metrics": scenario_list(analysis.metrics),
        "workloads": scenario_list([w for w in dict.fromkeys(w for w, _ in analysis.series) if w]),
        "synthesis": synthesis(analysis) + host_sentence(inputs.hosts),
        "provenance": provenance_rows(inputs, campaign_dir),
        "stack_tables": stack_tables(campaign_dir),
        "fact_groups": campaign_facts(results, campaign_dir),
        "options": options,
        "max_significant": MAX_SIGNIFICANT,
        "ci_text": ci_description(options),
        "delta_ci_text": delta_ci_description(options),
        "figures": figures,
        "descriptive": descriptive_rows(analysis),
        "comparisons": comparison_rows(analysis.comparisons, analysis),
        "side_by_side": side_by_side_rows(analysis),
        "outliers": outlier_rows(analysis),
        "n_outliers": len(analysis.outliers),
        "excluded": excluded_rows(analysis),
        "n_excluded": len(results.not_ok),
        "retried": retried_rows(results),
        "notes": note_rows(analysis),
        "baseline": analysis.baseline,
        "smoke": smoke_table(campaign_dir, analysis.baseline),
        **host_context(analysis, inputs.hosts),
    }


#: Characters after which a long key or path may wrap: the seams between its parts.
_SEAMS = ("/", ".")
#: Tokens up to this long fit the narrowest column that wraps keys (Appendix A's keys).
#: Each break opportunity is an element the PDF lays out: 120 keys with one per seam
#: cost a third of a second.
SHORT_TOKEN = 24


def soft_breaks(text: object) -> markupsafe.Markup:
    """``text`` escaped, with a line-break opportunity after each "/" and "." that
    separates two parts of a long token (a hash, a word or a version never breaks inside)."""
    out = []
    for token in re.split(r"(\s+)", str(text)):
        long = len(token) > SHORT_TOKEN
        for i, char in enumerate(token):
            out.append(str(markupsafe.escape(char)))
            if long and char in _SEAMS and token[i + 1 : i + 2].isalpha():
                out.append("<wbr>")
    return markupsafe.Markup("".join(out))


def inline_figures(report_dir: Path, figures: list[FigureEntry]) -> dict[str, str]:
    """Each figure's PNG as a data: URI, so that report.html is one self-contained file."""
    return {
        f.name: "data:image/png;base64,"
        + base64.b64encode((report_dir / f.png).read_bytes()).decode("ascii")
        for f in figures
    }


def render_html(
    context: dict[str, Any], *, for_pdf: bool, inline: dict[str, str] | None = None
) -> str:
    """The report page; ``for_pdf`` leaves out links that would point into the staging dir;
    ``inline`` gives figures as data: URIs (by figure name) instead of file links."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["soft"] = soft_breaks
    try:
        return env.get_template(TEMPLATE).render(**context, for_pdf=for_pdf, inline=inline or {})
    except jinja2.TemplateError as exc:
        msg = f"the report template {TEMPLATE} failed to render: {exc}"
        raise ReportError(
            msg,
            hint="reinstall snpapp; if you edited templates/, check that file",
        ) from exc


def _render_into(stage: Path, inputs: ReportInputs, tracker: Tracker, pdf: PdfRenderer) -> None:
    analysis = inputs.analysis
    with tracker.step("writing statistics (stats/)"):
        write_stats(analysis, stage)
        write_host_stats(inputs.hosts, stage)
        evidence = campaign_evidence(inputs)
        if evidence.groups:
            write_evidence_csv(evidence, stage)
    figure_dir = stage / FIGURES_DIR
    figure_dir.mkdir()
    palette = make_palette(list(analysis.scenarios), analysis.baseline)
    writer = FigureWriter(inputs.results.ok, analysis, palette, figure_dir)
    tasks = writer.tasks()
    if inputs.hosts and analysis.metrics:
        tasks.append(partial(writer.run_order_by_host, [v.host for v in inputs.hosts]))
    with Workers[FigureEntry](tasks) as drawing:
        with tracker.step("drawing figures (figures/)", total=len(tasks)) as advance:
            figures = drawing.results(advance)
        # The PDF is laid out from the PNGs while the workers write the SVG copies
        # and this process writes report.html.
        with tracker.step("rendering report.pdf, report.html and the figures' SVG copies"):
            context = page_context(inputs, figures)
            pdf.submit(render_html(context, for_pdf=True), stage, stage / PDF_NAME)
            html = render_html(context, for_pdf=False, inline=inline_figures(stage, figures))
            (stage / HTML_NAME).write_text(html, encoding="utf-8")
            drawing.finish()
            pdf.wait()
    write_manifest(stage)


def render_report(
    source: Path | None,
    *,
    out: Path | None,
    baseline: str | None,
    options: StatsOptions,
    pdf: PdfRenderer,
) -> Path:
    """Render the report of ``source`` (latest campaign if None) into ``out``; return the PDF
    (rendered by ``pdf``).

    Ctrl-C at any point raises :class:`InterruptedByUser` naming the step it
    stopped; nothing is published then and ``out`` is left as it was.
    """
    path = resolve_source(source)
    target = out if out is not None else default_out(path)
    tracker = Tracker()
    try:
        return _render(path, target, baseline, options, tracker, pdf)
    except KeyboardInterrupt:
        msg = (
            f"{tracker.current or 'starting'} stopped; no report was published "
            f"({target} is unchanged)"
        )
        raise InterruptedByUser(msg) from None


def _render(
    path: Path,
    target: Path,
    baseline: str | None,
    options: StatsOptions,
    tracker: Tracker,
    pdf: PdfRenderer,
) -> Path:
    size = path.stat().st_size if path.is_file() else None
    with tracker.step(f"loading results from {path}", total=size) as advance:
        results = load_results(path, advance)
    check_out(target)
    with tracker.step(
        "computing statistics", total=planned_comparisons(results, baseline, options)
    ) as advance:
        analysis = analyse(results, baseline=baseline, options=options, advance=advance)
        views = host_views(results, analysis.baseline, options, advance)
    inputs = ReportInputs(
        results=results,
        analysis=analysis,
        source=path,
        baseline_reason=baseline_reason(results, baseline),
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        hosts=views,
        attempts=campaign_attempts(path, results),
    )
    try:
        with staged_dir(target) as stage:
            _render_into(stage, inputs, tracker, pdf)
            check_out(target)
    except OSError as exc:
        msg = f"cannot write the report to {target}: {exc.strerror or exc}"
        raise OutputError(
            msg,
            hint="check free space and permissions, or choose another location with --out",
        ) from exc
    return target / PDF_NAME
