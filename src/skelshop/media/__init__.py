"""Video decoding, frame sampling and image loading."""
