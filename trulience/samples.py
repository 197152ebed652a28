"""Sample faces shipped inside installed packages, for the demo and the tests."""

import importlib.util
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{relative} is missing from package {package}")
    return path


def crop_png(path: Path, box: tuple[int, int, int, int]) -> bytes:
    """A region of an image file, as PNG bytes."""
    out = io.BytesIO()
    with Image.open(path) as image:
        image.convert("RGB").crop(box).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class SampleCharacter:
    slug: str
    metadata: dict
    images: dict[str, bytes] = field(default_factory=dict)

    def write_folder(self, folder: Path) -> bool:
        """Write this character as an inbox folder; False if it is already there as is."""
        files = {name: data for name, data in self.images.items()}
        files["metadata.json"] = (json.dumps(self.metadata, indent=2) + "\n").encode()
        if folder.is_dir() and all(
            (folder / n).is_file() and (folder / n).read_bytes() == d for n, d in files.items()
        ):
            return False
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        # Written whole, here and now: date it back so the inbox does not wait for it to settle.
        settled = time.time() - 60
        for path in [*folder.iterdir(), folder]:
            os.utime(path, (settled, settled))
        return True


# 320 px crops of insightface's group photo t1.jpg (1280 x 886), each holding exactly one
# of its six faces with a margin around it (checked by source-image QA at 320 px, and not
# close to each other's identity: SFace cosine 0.05 between them).
GROUP_PHOTO_CROPS = {"marco": (380, 200, 700, 520), "theo": (790, 0, 1110, 320)}


def sample_characters() -> list[SampleCharacter]:
    """Three characters from photos that scikit-image and insightface ship: the astronaut
    (512 px), and two faces cropped from insightface's group photo (320 px each)."""
    group_photo = package_file("insightface", "data/images/t1.jpg")
    return [
        SampleCharacter(
            "eileen",
            {
                "name": "Eileen",
                "role": "astronaut",
                "age": 42,
                "rating": "general",
                "bio": "Shuttle commander in an orange flight suit",
            },
            {"eileen.png": package_file("skimage", "data/astronaut.png").read_bytes()},
        ),
        SampleCharacter(
            "marco",
            {
                "name": "Marco",
                "role": "engineer",
                "age": 31,
                "rating": "general",
                "bio": "Station engineer, calm under pressure",
            },
            {"marco.png": crop_png(group_photo, GROUP_PHOTO_CROPS["marco"])},
        ),
        SampleCharacter(
            "theo",
            {
                "name": "Theo",
                "role": "communications officer",
                "age": 36,
                "rating": "general",
                "bio": "Keeps the station talking to Earth, whatever the weather",
            },
            {"theo.png": crop_png(group_photo, GROUP_PHOTO_CROPS["theo"])},
        ),
    ]
