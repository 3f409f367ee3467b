"""The one exception type users can cause: the CLI turns it into `signals: error: …` and exit 1."""


class SignalsError(Exception):
    """A problem with the user's input, files or model, told in one line."""


def where(path: object, line: int | None = None) -> str:
    """Format a location prefix such as `labels/labels.csv:12` for error messages."""
    return f"{path}:{line}" if line is not None else str(path)
