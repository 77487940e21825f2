"""Device checks the patient passes before knocking."""
