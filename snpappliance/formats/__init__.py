"""The hand-off formats between stages: stack lock, artefact manifest, release layout,
campaign directory and results (standard library only)."""
