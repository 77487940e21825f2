"""The headless engine: carries out the session's commands on one asyncio loop."""
