"""Live co-editing of clause texts: Yjs documents held by the server, persisted as a log."""
