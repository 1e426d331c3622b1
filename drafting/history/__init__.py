"""A clause's history: who changed it and when (editing sessions read from the log), its
text at any point, word-level differences, and making an earlier wording current again.

Above ``drafting.editing`` (the log it reads) and ``drafting.recommendations`` (a restore is
an edit of the clause like any other)."""
