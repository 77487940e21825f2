"""Lockdown of the terminal: systemd watchdog, crash handling, out-of-order screen, audit."""
