from .related_posts import *  # noqa: F403
from .related_posts import register  # noqa: F401
