"""Build hook: compiles campuslake's native CSV splitter (a plain C library loaded with ctypes).

The compiler is zig's C compiler from the `ziglang` package (a build requirement), so a machine
with nothing but Python builds it; no Python headers are needed.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "src/campuslake/ingest/csv_split.c"
# the name campuslake.ingest.csv_split loads
LIBRARY = "src/campuslake/ingest/" + ("_csv_split.dll" if sys.platform == "win32" else "_csv_split.so")


class NativeBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        source, library = root / SOURCE, root / LIBRARY
        # baseline CPU: the wheel runs on any machine of its platform (the loop is plain scalar code)
        command = [sys.executable, "-m", "ziglang", "cc", "-O2", "-mcpu=baseline", "-g0", "-Wall",
                   "-shared", "-fPIC", "-o", str(library), str(source)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"compiling {SOURCE} failed:\n{result.stdout}{result.stderr}")
        build_data["pure_python"] = False
        # ctypes, not the C API: one wheel per platform serves every Python version
        build_data["tag"] = f"py3-none-{sysconfig.get_platform().replace('-', '_').replace('.', '_')}"
        if version != "editable":  # an editable install loads it from the source tree
            build_data["force_include"][str(library)] = LIBRARY.removeprefix("src/")
