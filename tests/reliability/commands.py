"""Running tether's command line (and other programs) from async tests."""

import asyncio
import sys
from pathlib import Path

TETHER = str(Path(sys.executable).parent / "tether")


async def run(*command: str, seconds: float = 120, **options) -> tuple[int, str]:
    """Run `command` (for at most `seconds`); return its exit code and its output."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, **options
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds)
    assert process.returncode is not None
    return process.returncode, out.decode()
