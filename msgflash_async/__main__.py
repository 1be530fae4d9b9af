"""``python -m msgflash_async``: the same as the ``msgflash`` command."""

from ._cli import main

raise SystemExit(main())
