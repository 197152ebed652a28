"""Sample faces shipped inside installed packages, for the demo and the tests."""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{relative} is missing from package {package}")
    return path


@dataclass(frozen=True)
class SampleCharacter:
    slug: str
    name: str
    metadata: dict
    images: list[Path] = field(default_factory=list)


def sample_characters() -> list[SampleCharacter]:
    """Two characters from photos that scikit-image and insightface ship."""
    return [
        SampleCharacter(
            "eileen",
            "Eileen",
            {
                "role": "astronaut",
                "bio": "Shuttle commander in an orange flight suit",
                "age": 42,
                "rating": "general",
            },
            [package_file("skimage", "data/astronaut.png")],
        ),
        SampleCharacter(
            "tom",
            "Tom",
            {
                "role": "captain",
                "bio": "Weathered ship captain with a warm smile",
                "age": 55,
                "rating": "general",
            },
            [package_file("insightface", "data/images/Tom_Hanks_54745.png")],
        ),
    ]
