from .vn_text import *  # noqa: F403
from .vn_text import __all__  # noqa: F401
