"""The benchmark workloads: how each runs in the guest and how its output parses."""
