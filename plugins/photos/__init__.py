from .photos import *  # noqa: F403
from .photos import register  # noqa: F401
