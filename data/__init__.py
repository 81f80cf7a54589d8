"""Bundled scenarios and the cited parameter catalog (package data, no code)."""
