"""`python -m dflow_nb.runtime SPEC` runs one step: SPEC is the JSON text, `@file.json`, or `-`
(read from stdin). Handy to re-run a failed step by hand with the spec from its manifest.
"""

from __future__ import annotations

import sys

from . import main


def _read_spec(argv: list[str]) -> str:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m dflow_nb.runtime SPEC_JSON | @spec.json | -\n")
        sys.exit(2)
    arg = argv[1]
    if arg == "-":
        return sys.stdin.read()
    if arg.startswith("@"):
        with open(arg[1:]) as f:
            return f.read()
    return arg


if __name__ == "__main__":
    main(_read_spec(sys.argv))
