"""The only package that knows HTTP: routes, codec, errors->HTTP, middleware, API and dashboard."""
