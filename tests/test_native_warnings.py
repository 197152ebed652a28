"""No native library's notice leaks into a command's output (OpenCV's DNN warned on every
face model load: `[ WARN:0@…] … setPreferableTarget …`)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_face_command_prints_no_opencv_warning(db_url, tmp_path) -> None:
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    env.pop("OPENCV_LOG_LEVEL", None)  # the product must be quiet by itself

    def trulience(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trulience.cli", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert trulience("projects", "add", "quiet", "Quiet").returncode == 0
    assert trulience("characters", "add", "eileen", "Eileen", "--project", "quiet").returncode == 0
    sheet = trulience("characters", "contact-sheet", "eileen", "--out", str(tmp_path / "s.png"))
    assert sheet.returncode == 0, sheet.stdout + sheet.stderr
    assert "0 faces of eileen" in sheet.stdout
    assert any((tmp_path / "home" / "models").iterdir())  # the face models were loaded
    assert "[ WARN" not in sheet.stdout + sheet.stderr
