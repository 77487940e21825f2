"""The Kivy view: renders session snapshots and sends the patient's intents to the engine."""
