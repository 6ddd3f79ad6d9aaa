from .search import *  # noqa: F403
from .search import register  # noqa: F401
