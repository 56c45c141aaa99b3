"""Light defaults of direct identification (no numpy), for the command line's options.

They restate `skelshop.identify.direct`'s constants, which that module imports with numpy;
tests/test_iden_cli_light.py checks that they agree.
"""

# A full dump sees a track in many frames: a few agreeing frames are needed (the original's 3).
FULL_MIN_DETECTED_FRAMES = 3
