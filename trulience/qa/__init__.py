"""Quality gates: the checks a decoded source image must pass before it can stand for a
character (`image_checks`), and the gates of a generated segment (`video`, `video_rules`).
Decoding itself is trulience.media.image_decode's."""
