"""device_type from a User-Agent: mobile, tablet, desktop, or server for HTTP client libraries."""

from __future__ import annotations

import re

# Server-side HTTP clients (the Go, PHP, Dart/Flutter-on-server and Node SDKs, curl, scripts).
# Node's built-in fetch sends the bare User-Agent `node`.
_SERVER = re.compile(
    r"go-http-client|curl/|wget/|php|guzzle|dart/|dart:io|node-fetch|node/|^node$|undici|axios/|python-requests|"
    r"python-httpx|python-urllib|aiohttp|okhttp|java/|apache-httpclient|libwww-perl|ruby|faraday|"
    r"restsharp|\.net|httpie|postmanruntime|insomnia|scrywatch-python",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.IGNORECASE)
_MOBILE = re.compile(r"mobile|iphone|ipod|android|blackberry|windows phone|opera mini|iemobile", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux|cros", re.IGNORECASE)


def device_type(user_agent: str | None) -> str | None:
    """Classify a User-Agent; None when it says nothing useful."""
    if not user_agent:
        return None
    if _SERVER.search(user_agent) and "mozilla" not in user_agent.lower():
        return "server"
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return None
