"""The public view: every rule that decides what anonymous callers see (docs/statistics.md)."""
