from __future__ import annotations

from scrywatch.cli import main

raise SystemExit(main())
