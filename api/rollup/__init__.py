"""Rollups: raw samples into per-node minutes and hours, and the background workers that
run them."""
