"""Disclosure control of the public view: what anonymous callers are not shown."""
