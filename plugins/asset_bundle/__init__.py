from .asset_bundle import *  # noqa: F403
from .asset_bundle import register  # noqa: F401
