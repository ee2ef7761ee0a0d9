"""The dashboard: server-rendered pages calling the same services as the JSON API.

Importing this package makes browsers get styled error pages (`web.errors.html_renderer`).
Routes are listed in `scrywatch.web.routes.dashboard_routes()`.
"""

from __future__ import annotations

from scrywatch.web import errors as _web_errors
from scrywatch.web.dashboard.errors import render_error

_web_errors.html_renderer = render_error
