from tests.support.netns import netlab
from tests.support.pulse import pulse_server

__all__ = ["netlab", "pulse_server"]
