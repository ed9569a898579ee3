"""The count the issue asks for: bad-input kinds x source kinds tried by the reader fault tests, and what
was lost in each. Each case calls `record` once it has passed its assertions; `conftest.py` prints the
table at the end of the session (and writes it to `$OMNIVEC2_FAULT_TABLE` when that is set).

"bad rows cached" counts token-cache rows that came from the bad file (every case asserts 0);
"good rows lost" counts good samples missing from the cache built after quarantine (set-aside cases,
every one asserts 0). A refused reading caches nothing: the run stops with the message."""

from __future__ import annotations

TRIED: dict[tuple[str, str], dict[str, int]] = {}


def record(bad: str, kind: str, outcome: str, bad_rows_cached: int = 0, good_rows_lost: int = 0) -> None:
    """One passed case: `outcome` is "refused" (the reading or validation stopped, naming the file),
    "set aside" (quarantined by name, the rest cached) or "kept (tokens finite)" (a degenerate sample its
    tokenizer takes safely: validated and cached with finite tokens)."""
    entry = TRIED.setdefault((bad, kind), {"refused": 0, "set aside": 0, "kept (tokens finite)": 0,
                                           "bad rows cached": 0, "good rows lost": 0})
    entry[outcome] += 1
    entry["bad rows cached"] += bad_rows_cached
    entry["good rows lost"] += good_rows_lost


def table_text() -> str:
    """A Markdown table, one row per bad-input kind, one column per source kind (cases tried there)."""
    bads = sorted({bad for bad, _ in TRIED})
    kinds = sorted({kind for _, kind in TRIED})
    lines = ["| bad input | " + " | ".join(kinds) + " | cases | refused | set aside | kept (tokens finite) | "
             "bad rows cached | good rows lost |", "|---" * (len(kinds) + 7) + "|"]
    for bad in bads:
        cells = [TRIED.get((bad, kind)) for kind in kinds]
        count = (lambda key: sum(c[key] for c in cells if c))
        cases = (lambda c: c["refused"] + c["set aside"] + c["kept (tokens finite)"])
        lines.append(f"| {bad} | " + " | ".join(str(cases(c)) if c else "-" for c in cells)
                     + f" | {sum(cases(c) for c in cells if c)} | {count('refused')} | {count('set aside')} | "
                     f"{count('kept (tokens finite)')} | {count('bad rows cached')} | {count('good rows lost')} |")
    pairs = len(TRIED)
    total = sum(c["refused"] + c["set aside"] + c["kept (tokens finite)"] for c in TRIED.values())
    lost = sum(c["bad rows cached"] + c["good rows lost"] for c in TRIED.values())
    lines.append(f"\n{len(bads)} bad-input kinds x {len(kinds)} source kinds: {pairs} pairs, {total} cases, {lost} rows lost")
    return "\n".join(lines)
