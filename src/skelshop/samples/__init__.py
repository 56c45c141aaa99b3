"""Sample media fetched from pinned registry packages (design.md §7)."""
