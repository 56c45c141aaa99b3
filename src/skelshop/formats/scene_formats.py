"""Names of the scene-file formats (light: no numpy, for command-line option choices)."""

SCENE_FORMATS = ("psd", "ffprobe")
