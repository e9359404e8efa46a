"""The SME log scanner: the alliance's indicators against an organization's own logs, with exact semantics.

Stand-alone on purpose: this package imports only the standard library and :mod:`herdsec.ioc` (the hub's own value
normalisation), so ``pip install herdsec`` runs ``herdsec scan`` without the server, a database or a web framework.
"""
