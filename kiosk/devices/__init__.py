"""The one owner of each device: the camera hub and the audio streams."""
