from tests.support.pulse import pulse_server

__all__ = ["pulse_server"]
