"""Votes: decision rules, ballots, records, statements."""
