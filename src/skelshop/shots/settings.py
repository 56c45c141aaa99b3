"""Cut-detection defaults (light: no heavy imports, for command-line option defaults)."""

# PySceneDetect's ContentDetector defaults.
DEFAULT_THRESHOLD = 27.0
DEFAULT_MIN_SHOT_FRAMES = 15
