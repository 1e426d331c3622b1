"""The outcome document: one compiler (outline.py), one renderer per format."""
