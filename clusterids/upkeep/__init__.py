"""Keeping what is derived from the database in step with it: the one catch-up (catchup.py),
the instant assignment of new faces (assign.py), and the invariants that doctor checks and the
catch-up restores (invariants.py)."""
