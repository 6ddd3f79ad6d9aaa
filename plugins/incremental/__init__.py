from .incremental import *  # noqa: F403
from .incremental import register  # noqa: F401
