"""User-facing errors: one line that says what is wrong and how to fix it."""


class UserError(Exception):
    """A bad input (config, asset, data amount) that the user must fix; printed as one line."""
