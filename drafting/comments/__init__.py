"""Threads of comments on clauses."""
