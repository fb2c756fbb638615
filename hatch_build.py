"""Package build hook: bundle the widget's front end (js/) with esbuild when its sources changed.

The bundle ``dflow_nb/static/widget.js`` is committed, so a build without node (Binder, a plain
``pip install``) ships it as it is. When node and npm are present and a file under ``js/`` is
newer than the bundle, the build runs ``npm ci`` and ``npm run build`` first; a failure there
keeps the committed bundle and says so (``tests/test_js_build.py`` checks it is up to date).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WidgetBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Rebuild dflow_nb/static/widget.js from js/ when it is stale."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        bundle = root / "dflow_nb" / "static" / "widget.js"
        sources = [p for p in (root / "js").glob("*") if p.suffix in (".js", ".css", ".json")]
        if not sources:
            return
        newest = max(p.stat().st_mtime for p in sources)
        if bundle.exists() and bundle.stat().st_mtime >= newest:
            return
        npm = shutil.which("npm")
        if npm is None:
            print(
                "dflow_nb: js/ changed but npm is missing; shipping the committed widget bundle",
                file=sys.stderr,
            )
            return
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=root / "js",
                check=True,
                timeout=300,
            )
            subprocess.run(
                [npm, "run", "--silent", "build"], cwd=root / "js", check=True, timeout=120
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(
                f"dflow_nb: widget bundle not rebuilt ({exc}); shipping the committed one",
                file=sys.stderr,
            )
