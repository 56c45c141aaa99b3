"""A self-contained HTML report and WebVTT subtitles of a corpus run."""
