"""The assistant's Rasa-side Python code (custom channels); config and domain live beside it."""
