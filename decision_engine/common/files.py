"""Files and directories the engine creates: its own, nobody else's.

The state directory, the SQLite store (which holds every audit and plan)
and what the daemon writes (its log file, Guru Meditation Reports) are
created readable by the engine's user only, whatever umask the service
manager or the shell gave the process.
"""

import os

#: The permission bits a file the engine creates never has: group and
#: other get nothing.
PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask():
    """Add :data:`PRIVATE_UMASK` to the process umask; :returns: the old
    umask."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)
    return old


def make_private_directory(path):
    """Create ``path`` (and missing parents) with mode 0700; an existing
    directory is left as the operator made it."""
    os.makedirs(path, mode=DIRECTORY_MODE, exist_ok=True)


def touch_private_file(path):
    """Create ``path`` empty with mode 0600 unless it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
