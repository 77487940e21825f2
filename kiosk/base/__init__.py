"""Small pieces every other package may use: the clock and the privacy filter for logs."""
