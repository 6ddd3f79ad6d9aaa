from .content_check import *  # noqa: F403
from .content_check import register  # noqa: F401
