"""Aksio: the shared package behind every Cloud Function of the Aksio backend.

Modules are imported by what needs them, so that `import aksio.x` costs only x (cold start
is a product feature). The one exception is the configuration (pure standard library): every
function imports this package first, whatever its trigger (HTTP, Tasks, CloudEvents), so
loading the configuration here makes a function with an unsafe production environment
(an emulator variable set, see :mod:`aksio.config`) refuse to start, with a
:class:`~aksio.config.ConfigError` naming the variables.
"""

from aksio.config import get_config as _get_config

__version__ = "0.1.0"

_get_config()
