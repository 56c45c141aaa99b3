"""Scoring predictions against ground truth."""
