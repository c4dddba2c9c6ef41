"""The one exception type a user sees for bad input."""


class SSHDipError(ValueError):
    """Bad input or an impossible request, with a message meant for the user.

    Raised for broken files, missing variables, all-land crops, grids too small for the ratio and the like.
    The CLI prints it on one line (exit code 2); the explorer shows it on the page.
    """


class SSHDipWarning(UserWarning):
    """A usable input that needed a repair the user should know about (non-finite cells, sorted coordinates…).

    The CLI prints each on one line (``ssh-dip: warning: …``); the explorer shows it on the page.
    """
