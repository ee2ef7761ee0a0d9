"""JSON handlers: authorize, decode, call one service, encode."""
