"""The schema's migrations, run by Alembic (``versions/``, one file each, in order).

Opening a library runs what is missing (see ``store.db.migrate``). ``HEAD`` names the newest
revision, so that opening an up-to-date library reads one row and never loads Alembic; a test
keeps it equal to the scripts' head. Libraries made before Alembic (0.2, 0.3) recorded their
migrations by name in a table ``migrations``; those names are the revision ids here, so such a
library is stamped at the last one it had and upgraded from there.
"""

HEAD = "face_moves"
