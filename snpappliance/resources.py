"""Where snpapp's data files live: in the wheel, or at the top of a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Top-level data directories shipped inside the wheel under ``snpappliance/_data``.
DATA_DIRS = ("Dockerfiles", "patches", "templates", "stacks")


def data_dir(name: str) -> Path:
    """Path of a shipped data directory (``Dockerfiles``, ``patches``, ``templates``, ``stacks``).

    An installed wheel carries them in ``snpappliance/_data/``; an editable
    install or a checkout uses the directories at the top of the repository.
    """
    if name not in DATA_DIRS:
        msg = f"unknown data directory {name!r}"
        raise ValueError(msg)
    packaged = Path(str(resources.files("snpappliance"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def package_file(*parts: str) -> Path:
    """Path of a file inside the ``snpappliance`` package itself."""
    return Path(str(resources.files("snpappliance").joinpath(*parts)))
