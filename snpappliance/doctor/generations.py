"""SNP-capable AMD EPYC generations and the firmware security floors published for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Generation:
    name: str
    family: int
    models: range
    #: AMD-SB-3015 ("BadRAM", CVE-2024-21944): lowest SNP firmware (major, minor, build).
    badram_floor: tuple[int, int, int] | None = None
    #: AMD-SB-3019: lowest SNP SVN of the platform TCB.
    sb3019_snp_svn: int | None = None


#: Family/model ranges from the CPUID family and model of each generation. The
#: floors are as reported in virtee/snphost#108 (AMD-SB-3015) and
#: microsoft/CCF#6812 (AMD-SB-3019); AMD's bulletins are the authority.
GENERATIONS = (
    Generation("Milan", 0x19, range(0x10), (1, 55, 22), 0x18),
    Generation("Genoa", 0x19, range(0x10, 0x20), (1, 55, 38), 0x17),
    Generation("Bergamo/Siena", 0x19, range(0xA0, 0xB0)),
    Generation("Turin", 0x1A, range(0x20)),
)


def generation(family: int | None, model: int | None, model_name: str) -> Generation | None:
    """The SNP-capable EPYC generation of a CPU, or ``None`` for any other CPU."""
    if "EPYC" not in model_name:
        return None
    return next(
        (g for g in GENERATIONS if g.family == family and model in g.models),
        None,
    )
