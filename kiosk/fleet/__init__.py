"""Running a fleet of terminals: enrolment, signed configuration, metrics, remote control."""
