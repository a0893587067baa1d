"""The one exception type for bad user input: the command line prints its message and exits non-zero."""


class LUnetError(Exception):
    """A problem with the user's input or files. The message names the problem and the fix, in one line."""
