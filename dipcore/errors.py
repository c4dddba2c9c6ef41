"""The one exception type a user sees for bad input."""


class SSHDipError(ValueError):
    """Bad input or an impossible request, with a message meant for the user.

    Raised for broken files, missing variables, all-land crops, grids too small for the ratio and the like.
    The CLI prints it on one line (exit code 2); the explorer shows it on the page.
    """
