"""``rasa`` for the Makefile's checks, without third-party DeprecationWarnings:

  .venv/rasa/bin/python -m devtools.rasa_quiet data validate …   (the arguments of ``rasa``)

Sanic's import calls ``warnings.filterwarnings("once", DeprecationWarning)``, so everything Rasa
imports afterwards prints its dependencies' deprecations (pkg_resources, jax, SQLAlchemy 2.0 …),
whatever PYTHONWARNINGS says. Imported first and that filter taken back, Python's defaults hold
again; Rasa's own warnings (UserWarning, e.g. about our data) still show.
"""
from __future__ import annotations

import sys
import warnings

import sanic  # noqa: F401  (first, for the next line)

warnings.filters[:] = [f for f in warnings.filters if f[:4] != ("once", None, DeprecationWarning, None)]

from rasa.__main__ import main  # noqa: E402  (after the filter is gone)

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    main()
