"""Custom Rasa input/output channels (referenced from bot/credentials*.yml by module path)."""
