"""The people register at city size — the issue's ``benchmarks/registry.py``: it runs
``benchmarks/people_register.py`` with the same arguments (``--quick`` and the rest).

The code lives there because mypy maps each file of ``benchmarks/`` to a top-level module, and a
module named ``registry`` would stand beside the app of that name; this file is left out of mypy
(``pyproject.toml``) for that reason. Run from the project root:
``.venv/bin/python benchmarks/registry.py [--quick]``.
"""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("people_register.py")), run_name="__main__")
