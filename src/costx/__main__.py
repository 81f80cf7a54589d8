"""``python -m costx`` works like the ``costx`` command."""

import sys

from costx.cli import main

sys.exit(main())
