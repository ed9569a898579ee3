"""Checks shared by every block of configuration: unknown keys refused with a did-you-mean."""

from __future__ import annotations

import difflib


def did_you_mean(unknown, known) -> str:
    """' (did you mean 'steps'?)' for the closest known name of each unknown one, or ''."""
    known = [str(k) for k in known]
    guesses = [f"{u!r} -> {m[0]!r}" for u in sorted(map(str, unknown)) if (m := difflib.get_close_matches(u, known, 1, 0.7))]
    return f" (did you mean {', '.join(guesses)}?)" if guesses else ""


def check_keys(where: str, given: dict, known) -> None:
    """Refuse keys of `given` not in `known`, naming the entry, the key and the closest valid key."""
    if not isinstance(given, dict):
        raise ValueError(f"{where} must be a mapping, got {type(given).__name__} {given!r}")
    unknown = set(given) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(map(str, unknown))}{did_you_mean(unknown, known)}; "
                         f"valid: {sorted(map(str, known))}")


def check_class_names(where: str, classes) -> None:
    """Refuse a class list holding booleans: YAML 1.1, which Kedro's loader reads, turns unquoted
    yes, no, on, off, true and false into True and False, so `classes: [yes, no]` would be ["True", "False"]."""
    flags = [c for c in classes or () if isinstance(c, bool)]
    if flags:
        raise ValueError(f"{where}: classes {list(classes)} hold {len(flags)} boolean(s): YAML reads unquoted yes, no, "
                         "on, off, true and false as booleans; quote the class names, e.g. classes: ['yes', 'no']")
