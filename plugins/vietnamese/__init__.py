from .vietnamese import *  # noqa: F403
from .vietnamese import register  # noqa: F401
