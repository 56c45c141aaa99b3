"""skelshop: person identification in video corpora."""

__version__ = "0.1.0"
