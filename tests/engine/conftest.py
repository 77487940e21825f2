from tests.support.netns import netlab

__all__ = ["netlab"]
