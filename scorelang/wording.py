"""Counts in the messages a user reads, in English: `1 event`, `3 events`."""


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
