"""Face-extraction defaults (light: no heavy imports, for command-line option defaults)."""

MODES = ("sparse", "full")
# 6 samples a second keeps box overlap between samples high enough for IoU tracking of
# talking heads and slow pans, at a quarter of the detector cost of 24-25 fps video.
DEFAULT_FPS = 6.0
DEFAULT_PER_TRACK = 3

# Smallest face (pixels tall in the source frame) that detection must keep finding.
# YuNet finds faces from about 16 px tall at its input (benchmarks/results/detect_recall.txt:
# recall 1.00 for 40-px faces at 720p detected at a long side of 480 and at 1080p at 800), but
# at 16 px exactly (1080p at 768) recall of the 40-48 px faces of the extraction benchmark's
# programme was 0.979, so frames are detected at DETECT_FACE_PX / min_face = 17/40 of their
# size by default: 544 px for 720p, 816 px for 1080p. Smaller faces are then missed; a
# smaller --min-face detects at a larger size and costs more (YuNet's time grows with the
# pixels it looks at).
DEFAULT_MIN_FACE = 40
DETECT_FACE_PX = 17.0
# Never detect below this long side: small (SD) videos are detected at their own size.
MIN_DETECT_SIDE = 480
# --min-face 0: the size used before --min-face existed (long side at most 960 px).
LEGACY_DETECT_SIDE = 960
# Seconds between whole-frame detections; the samples between are detected only around the
# faces found last (faces/detect_schedule.py), so a face entering mid-shot is found within
# this time (at once on a cut or a change of view). 0: every sample whole.
DEFAULT_FULL_DETECT = 1.0


def detection_side(width: int, height: int, min_face: int) -> int:
    """Long side (px) at which frames of this size are detected for faces >= min_face tall."""
    long_side = max(int(width), int(height))
    if min_face <= 0:
        return min(long_side, LEGACY_DETECT_SIDE)
    scale = min(1.0, DETECT_FACE_PX / float(min_face))
    return min(long_side, max(MIN_DETECT_SIDE, round(long_side * scale)))


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    """Threads each of `workers` processes may use so that together they fill the cores once."""
    return max(1, available_cores() // max(1, int(workers)))
