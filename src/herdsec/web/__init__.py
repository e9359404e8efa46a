"""The web layer: the adapter kit (deps, render, security, errors, middleware) and the app (app.py)."""
