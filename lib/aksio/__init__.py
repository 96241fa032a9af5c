"""Aksio: the shared package behind every Cloud Function of the Aksio backend.

Modules are imported by what needs them; this package root stays empty so that
`import aksio.x` costs only x (cold start is a product feature).
"""

__version__ = "0.1.0"
