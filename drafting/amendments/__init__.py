"""Amendments: proposed wordings of a clause, their sponsors and the chair's decisions."""
