"""The in-app notification list."""
