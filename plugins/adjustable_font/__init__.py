from .adjustable_font import *  # noqa: F403
from .adjustable_font import register  # noqa: F401
