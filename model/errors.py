"""The one base class for errors that are the user's to fix: the command line prints them as one line."""


class ForetypeError(Exception):
    pass
