"""ScryWatch: a self-hosted log and trace server."""

__version__ = "0.1.0"
