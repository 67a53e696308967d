"""Where the embedded server's data goes in a service folder with no pyproject.toml or
.git above it (its working directory's `.tether/`), and that tether says so, once,
when it creates it."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

START = "from tether import embedded; print(embedded.start())"


def test_a_bare_folder_is_told_where_its_embedded_data_went():
    # Under /tmp itself, readable by the server's own user (pytest's folders are 0700).
    folder = Path(tempfile.mkdtemp(prefix="tether-bare-service-"))
    folder.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("TETHER_HOME", "DATABASE_URL")}
    try:
        first, second = (
            subprocess.run(
                [sys.executable, "-c", START],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for _ in range(2)
        )
        assert first.returncode == 0, first.stderr
        assert (folder / ".tether" / "pgdata" / "PG_VERSION").exists()
        said = f"tether: the embedded PostgreSQL keeps its data in {folder / '.tether'}"
        assert said in first.stderr.splitlines()
        assert second.returncode == 0, second.stderr
        assert "keeps its data" not in second.stderr  # said when created, not every start
        assert first.stdout == second.stdout  # the same data folder, started again
    finally:
        shutil.rmtree(folder, ignore_errors=True)
