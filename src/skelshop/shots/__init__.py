"""Shot (cut) detection."""
