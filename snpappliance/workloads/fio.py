"""Parser for fio 3.x ``--output-format=json`` and ``json+`` output.

One :class:`~snpappliance.workloads.parsers.Measurement` per job and direction
(read, write) that did I/O, named for the job (``workload`` = fio's ``jobname``):

* ``fio_{read,write}_bw_kib_s``     fio's ``bw`` (KiB/s)
* ``fio_{read,write}_iops``         fio's ``iops``
* ``fio_{read,write}_lat_mean_us``  ``lat_ns.mean`` / 1000 (submission + completion)
* ``fio_{read,write}_clat_p99_us``  ``clat_ns.percentile["99.000000"]`` / 1000

Trim I/O is not measured. Jobs that appear several times under one name
(``numjobs`` > 1 without ``group_reporting``) are combined: bandwidth and IOPS
are summed, the mean latency is weighted by each job's ``total_ios``, and the
99th percentile is computed only when it can be computed exactly, from the
latency histograms ``json+`` writes (``clat_ns.bins``), merged and walked the
way fio walks them. From plain ``json`` output of such jobs the p99 is left out:
the percentiles of the parts do not give the percentile of the whole. Run fio
with ``--group_reporting`` or ``--output-format=json+`` to have it.

The parser fails closed with :class:`~snpappliance.errors.ParseError` (naming the
source and what is missing) on output without a fio JSON object, without jobs,
with a job whose ``error`` is not 0, or with a job that did no read or write
I/O. Text around the JSON object is ignored (fio writes warnings such as
``fio: pid=…, err=…`` or ``note: …`` ahead of it; a serial console adds ``\\r\\n``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from snpappliance.errors import ParseError
from snpappliance.workloads.parsers import Measurement

DIRECTIONS = ("read", "write")
METRIC_READ_BW = "fio_read_bw_kib_s"
METRIC_WRITE_BW = "fio_write_bw_kib_s"
METRIC_READ_IOPS = "fio_read_iops"
METRIC_WRITE_IOPS = "fio_write_iops"
METRIC_READ_LAT_MEAN = "fio_read_lat_mean_us"
METRIC_WRITE_LAT_MEAN = "fio_write_lat_mean_us"
METRIC_READ_CLAT_P99 = "fio_read_clat_p99_us"
METRIC_WRITE_CLAT_P99 = "fio_write_clat_p99_us"
UNIT_BW = "KiB/s"
UNIT_IOPS = "IOPS"
UNIT_LATENCY = "us"
#: Every metric fio output yields, in the order of :func:`parse_fio`'s measurements.
FIO_METRICS = (
    METRIC_READ_BW, METRIC_READ_IOPS, METRIC_READ_LAT_MEAN, METRIC_READ_CLAT_P99,
    METRIC_WRITE_BW, METRIC_WRITE_IOPS, METRIC_WRITE_LAT_MEAN, METRIC_WRITE_CLAT_P99,
)  # fmt: skip
#: The key of the 99th percentile in fio's ``percentile`` objects (``%f`` of 99.0).
P99_KEY = "99.000000"
P99 = Fraction(99)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OBJECT_START = re.compile(r"^[ \t]*\{", re.MULTILINE)
_FIO_MARKER = '"fio version"'
#: fio's own messages ("fio: failed parsing rw=…", "fio: pid=…, err=…"): fio ran, maybe failed.
_FIO_MESSAGE = re.compile(r"^fio: ", re.MULTILINE)
#: Bits in the significand of an x87 ``long double``, the type fio's percentile walk uses.
_LONG_DOUBLE_BITS = 64

Json = Mapping[str, Any]


def looks_like_fio(text: str) -> bool:
    """Whether ``text`` is fio's output: its JSON report, or its messages when it failed."""
    return _FIO_MARKER in text or _FIO_MESSAGE.search(text) is not None


def _fail(message: str, hint: str) -> ParseError:
    return ParseError(message, hint=hint)


def _no_constant(name: str) -> float:
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def _json_objects(text: str) -> list[tuple[int, int, Any]]:
    """Every JSON value that starts a line of ``text``: (start, end, value), in order."""
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    found: list[tuple[int, int, Any]] = []
    position = 0
    while (match := _OBJECT_START.search(text, position)) is not None:
        start = match.end() - 1
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = match.end()
            continue
        found.append((start, end, value))
        position = end
    return found


def _document(text: str, *, source: str) -> Json:
    clean = _ANSI.sub("", text)
    if not clean.strip():
        msg = f"{source} is empty"
        raise _fail(msg, "fio produced no output; see how it was run and run it again")
    documents = [
        value
        for _, _, value in _json_objects(clean)
        if isinstance(value, dict) and ("fio version" in value or "jobs" in value)
    ]
    if not documents:
        if _FIO_MARKER in clean:
            msg = f"{source}: fio's JSON report is cut off or malformed"
        else:
            msg = f'{source}: no fio JSON report (an object with "fio version" and "jobs")'
        raise _fail(
            msg,
            "run fio with --output-format=json (or json+) and keep its whole stdout; "
            "if fio failed before it ran, its messages are in the log",
        )
    if len(documents) > 1:
        msg = f"{source} holds {len(documents)} fio JSON reports; expected one fio run"
        raise _fail(
            msg,
            "keep one fio run per file (with --status-interval fio writes a report per "
            "interval: keep only the last)",
        )
    return documents[0]


def _jobs(document: Json, *, source: str) -> list[Json]:
    jobs = document.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        if "client_stats" in document:
            msg = f'{source}: fio JSON from a --client run has no "jobs"'
            raise _fail(msg, "run fio on the machine under test and import its own output")
        msg = f'{source}: fio JSON has no jobs ("jobs" is missing or empty)'
        raise _fail(msg, "the run did not start any job; see fio's messages and run it again")
    for job in jobs:
        if not isinstance(job, dict) or not isinstance(job.get("jobname"), str):
            msg = f'{source}: a fio job has no "jobname"'
            raise _fail(msg, "the JSON is not fio's; import the file fio wrote")
    return jobs


def _check_no_error(job: Json, *, source: str) -> None:
    error = job.get("error", 0)
    if error == 0:
        return
    why = os.strerror(error) if isinstance(error, int) and error > 0 else "unknown error"
    msg = f"{source}: fio job {job['jobname']!r} failed with error {error} ({why})"
    raise _fail(
        msg, "see fio's messages ahead of the JSON for the cause, fix the job and run it again"
    )


def _number(parent: Json, key: str, *, source: str, where: str) -> float:
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        msg = f'{source}: {where} has no numeric "{key}"'
        raise _fail(msg, "the JSON is incomplete; import the file fio wrote")
    return float(value)


def _section(parent: Json, key: str, *, source: str, where: str) -> Json:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        msg = f'{source}: {where} has no "{key}" object'
        raise _fail(msg, "the JSON is incomplete; import the file fio wrote")
    return value


def _did_io(stats: Json) -> bool:
    return bool(stats.get("io_bytes", 0) or stats.get("total_ios", 0))


def _positive(value: float, *, source: str, what: str) -> float:
    if value <= 0:
        msg = f"{source}: {what} is {value:g}, which is not a measurement"
        raise _fail(
            msg, "the job did I/O but fio measured no rate or latency; run it longer and again"
        )
    return value


def _long_double(value: Fraction) -> Fraction:
    """``value`` rounded to nearest-even in an x87 ``long double`` (64-bit significand)."""
    if value == 0:
        return value
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    scale = Fraction(2) ** (_LONG_DOUBLE_BITS - 1 - exponent)
    rounded = Fraction(round(magnitude * scale)) / scale
    return rounded if value > 0 else -rounded


def histogram_percentile(bins: Mapping[int, int], samples: int, percent: Fraction) -> int | None:
    """The ``percent`` percentile of a fio latency histogram, exactly as fio computes it.

    fio (``calc_clat_percentiles`` in stat.c) walks its buckets in order and takes
    the value of the first bucket at which the running count reaches
    ``(long double) percent / 100.0 * samples``; ``json+`` writes each non-empty
    bucket as ``bins[value] = count``. None when the histogram never reaches it.
    """
    threshold = _long_double(_long_double(percent / 100) * samples)
    running = 0
    for value in sorted(bins):
        running += bins[value]
        if running >= threshold:
            return value
    return None


def _bins(clat: Json) -> dict[int, int] | None:
    raw = clat.get("bins")
    if not isinstance(raw, Mapping):
        return None
    bins: dict[int, int] = {}
    for key, count in raw.items():
        if not (isinstance(key, str) and key.isdigit() and isinstance(count, int)):
            return None
        bins[int(key)] = count
    return bins


def _merged_p99_ns(clats: Sequence[Json]) -> int | None:
    """The p99 of several jobs' completion latencies, when their ``json+`` bins give it."""
    merged: dict[int, int] = {}
    samples = 0
    for clat in clats:
        bins = _bins(clat)
        count = clat.get("N")
        if bins is None or not isinstance(count, int):
            return None
        for value, n in bins.items():
            merged[value] = merged.get(value, 0) + n
        samples += count
    return histogram_percentile(merged, samples, P99)


def _p99_us(stats: Sequence[Json], *, source: str, where: str) -> float | None:
    clats = [_section(s, "clat_ns", source=source, where=where) for s in stats]
    if len(clats) > 1:
        merged = _merged_p99_ns(clats)
        return None if merged is None else _microseconds(merged)
    percentiles = clats[0].get("percentile")
    value = percentiles.get(P99_KEY) if isinstance(percentiles, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f'{source}: {where} has no clat_ns.percentile["{P99_KEY}"]'
        raise _fail(
            msg,
            "run fio with completion-latency percentiles on (the default) and 99 in "
            "--percentile_list",
        )
    return _microseconds(float(value))


def _microseconds(nanoseconds: float) -> float:
    """fio's nanoseconds in µs, rounded to fio's own precision (6 decimals of a ns)."""
    return round(nanoseconds / 1000, 9)


def _direction(
    name: str, direction: str, stats: Sequence[Json], *, source: str
) -> list[Measurement]:
    where = f"fio job {name!r} ({direction})"
    bw = sum(_number(s, "bw", source=source, where=where) for s in stats)
    iops = sum(_number(s, "iops", source=source, where=where) for s in stats)
    ios = [_number(s, "total_ios", source=source, where=where) for s in stats]
    lat_means = [
        _number(_section(s, "lat_ns", source=source, where=where), "mean",
                source=source, where=f"{where} lat_ns")
        for s in stats
    ]  # fmt: skip
    if sum(ios) <= 0:
        msg = f"{source}: {where} moved {bw:g} KiB/s but counts no I/Os (total_ios is 0)"
        raise _fail(msg, "the JSON is inconsistent; import the file fio wrote")
    lat_ns = sum(m * n for m, n in zip(lat_means, ios, strict=True)) / sum(ios)
    found = [
        Measurement(f"fio_{direction}_bw_kib_s",
                    _positive(bw, source=source, what=f"{where} bw"), UNIT_BW, name),
        Measurement(f"fio_{direction}_iops",
                    _positive(iops, source=source, what=f"{where} iops"), UNIT_IOPS, name),
        Measurement(f"fio_{direction}_lat_mean_us",
                    _microseconds(_positive(lat_ns, source=source, what=f"{where} lat_ns.mean")),
                    UNIT_LATENCY, name),
    ]  # fmt: skip
    p99 = _p99_us([s for s in stats if _did_io(s)], source=source, where=where)
    if p99 is not None:
        what = f"{where} clat p99"
        found.append(
            Measurement(
                f"fio_{direction}_clat_p99_us",
                _positive(p99, source=source, what=what),
                UNIT_LATENCY,
                name,
            )
        )
    return found


def parse_fio(text: str, *, source: str) -> list[Measurement]:
    """Every measurement of one fio run's JSON (``json`` or ``json+``) output.

    Measurements come per job name in the order fio lists the jobs, read before
    write, each as bandwidth, IOPS, mean latency and (when known) clat p99.
    """
    jobs = _jobs(_document(text, source=source), source=source)
    by_name: dict[str, list[Json]] = {}
    for job in jobs:
        _check_no_error(job, source=source)
        by_name.setdefault(job["jobname"], []).append(job)
    measurements: list[Measurement] = []
    for name, group in by_name.items():
        where = f"fio job {name!r}"
        found: list[Measurement] = []
        for direction in DIRECTIONS:
            stats = [_section(job, direction, source=source, where=where) for job in group]
            if any(_did_io(s) for s in stats):
                found.extend(_direction(name, direction, stats, source=source))
        if not found:
            trim = [job.get("trim") for job in group]
            only_trim = any(isinstance(t, Mapping) and _did_io(t) for t in trim)
            why = "only trim I/O, which is not measured" if only_trim else "no I/O"
            msg = f"{source}: {where} did no read or write I/O ({why}; io_bytes, total_ios = 0)"
            raise _fail(msg, "give the job a read or write workload (rw=…) and run it again")
        measurements.extend(found)
    return measurements
