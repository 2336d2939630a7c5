"""Use cases. Each takes a Session, flushes, and never commits: the caller owns the transaction."""

# Registers the session hooks that keep the report figures current in every transaction.
from lms.services import figures as figures
