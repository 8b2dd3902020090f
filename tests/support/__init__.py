"""Helpers shared by the tests: builders, clients and fixtures."""
