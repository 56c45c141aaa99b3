"""Thin click front ends: parse, call the library, report."""
