"""Source image QA: safe decoding (`image_decode`) and the checks a source image must pass
before it can stand for a character (`image_checks`)."""
