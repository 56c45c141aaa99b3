"""One module per file format; each format is read and written in exactly one place."""
