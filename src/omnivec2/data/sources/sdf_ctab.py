"""Connection tables of MDL molfiles (the atoms and bonds of an SDF record), V2000 and V3000.

* V2000: after the counts line (`aaabbb ... V2000`), `aaa` fixed-column atom lines (x, y, z in
  columns 1-30, the element symbol in 32-34) and `bbb` bond lines (atom 1, atom 2, bond type in
  columns 1-9).
* V3000: after a counts line ending in `V3000`, `M  V30` lines: `BEGIN CTAB`, `COUNTS na nb ...`,
  a `BEGIN ATOM` ... `END ATOM` block of `index type x y z aamap [KEY=value...]`, a `BEGIN BOND` ...
  `END BOND` block of `index type atom1 atom2 [KEY=value...]`, other blocks (SGROUP, COLLECTION...)
  skipped, `END CTAB`. A line ending in `-` continues on the next `M  V30` line.

Both give (element symbols `[n]`, coordinates `[n, 3]` float64, bonds `[m, 3]` int64: atom 1,
atom 2 (1-based positions), bond type). Problems raise ValueError naming the file and the line.
"""

from __future__ import annotations

import numpy as np

from omnivec2.tokens.graph import NUM_BOND_TYPES

V30 = "M  V30 "


class Lines:
    """The lines of a file with their 1-based numbers; `next` raises at the end (a truncated record)."""

    def __init__(self, text: str, name: str):
        self.lines, self.name, self.position = text.splitlines(), name, 0

    def more(self) -> bool:
        """Whether another record follows (trailing blank lines end the file; a blank title line does not)."""
        return any(line.strip() for line in self.lines[self.position :])

    def next(self, what: str) -> tuple[int, str]:
        if self.position >= len(self.lines):
            raise ValueError(f"{self.name}, line {self.position + 1}: file ends inside a record (expected {what})")
        self.position += 1
        return self.position, self.lines[self.position - 1]

    def error(self, number: int, message: str) -> ValueError:
        return ValueError(f"{self.name}, line {number}: {message}")


def check_bond(lines: Lines, number: int, bond: np.ndarray, atoms: int) -> None:
    """A bond `[3]` (atom 1, atom 2, type) must join two different atoms 1..atoms with a plain bond type."""
    if not (1 <= bond[0] <= atoms and 1 <= bond[1] <= atoms) or bond[0] == bond[1]:
        raise lines.error(number, f"bond between atoms {bond[0]} and {bond[1]}; atoms are 1..{atoms}")
    if not 1 <= bond[2] <= NUM_BOND_TYPES:
        raise lines.error(number, f"bond type {bond[2]} (query bond types 5-8 and V3000 types 9-10 are not supported)")


def v2000_ctab(lines: Lines, number: int, counts: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The atom and bond lines after the V2000 counts line `counts` (at line `number`)."""
    try:
        atoms, bonds = int(counts[0:3]), int(counts[3:6])
    except ValueError:
        raise lines.error(number, f"expected a counts line 'aaabbb... V2000', got {counts[:40]!r}") from None
    elements, coords = [], np.zeros((atoms, 3))
    for i in range(atoms):
        number, line = lines.next(f"atom {i + 1} of {atoms}")
        try:
            coords[i] = [float(line[0:10]), float(line[10:20]), float(line[20:30])]
        except ValueError:
            raise lines.error(number, f"expected an atom line 'x y z symbol', got {line[:40]!r}") from None
        symbol = line[31:34].strip()
        if not symbol:
            raise lines.error(number, f"atom line without an element symbol: {line[:40]!r}")
        elements.append(symbol)
    table = np.zeros((bonds, 3), dtype=np.int64)
    for i in range(bonds):
        number, line = lines.next(f"bond {i + 1} of {bonds}")
        try:
            table[i] = [int(line[0:3]), int(line[3:6]), int(line[6:9])]
        except ValueError:
            raise lines.error(number, f"expected a bond line 'aaabbbttt', got {line[:40]!r}") from None
        check_bond(lines, number, table[i], atoms)
    return elements, coords, table


def _v30(lines: Lines, what: str) -> tuple[int, str]:
    """The next logical `M  V30` line (continuations joined) and the number of its first line."""
    number, line = lines.next(what)
    if not line.startswith(V30):
        raise lines.error(number, f"expected an 'M  V30' line ({what}), got {line[:40]!r}")
    text = line[len(V30):].rstrip()
    while text.endswith("-"):
        more, line = lines.next("the continuation of an 'M  V30' line")
        if not line.startswith(V30):
            raise lines.error(more, f"expected an 'M  V30' continuation line, got {line[:40]!r}")
        text = text[:-1] + line[len(V30):].rstrip()
    return number, text.strip()


def _block(lines: Lines, name: str) -> list[tuple[int, list[str]]]:
    """The entries of a `BEGIN <name>` block up to `END <name>`: (line number, fields)."""
    entries = []
    while True:
        number, text = _v30(lines, f"an entry or 'END {name}'")
        if text.upper() == f"END {name}":
            return entries
        if text.upper().startswith(("BEGIN ", "END ")):
            raise lines.error(number, f"expected 'END {name}', got {text[:40]!r}")
        entries.append((number, text.split()))


def v3000_ctab(lines: Lines) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The `M  V30` connection table after a V3000 counts line."""
    number, text = _v30(lines, "'BEGIN CTAB'")
    if text.upper() != "BEGIN CTAB":
        raise lines.error(number, f"expected 'M  V30 BEGIN CTAB', got {text[:40]!r}")
    counts, blocks = None, {}
    while True:
        number, text = _v30(lines, "'END CTAB'")
        upper = text.upper()
        if upper == "END CTAB":
            break
        if upper.startswith("COUNTS"):
            counts = number, text.split()
        elif upper.startswith("BEGIN ") and upper[6:].strip():
            name = upper[6:].strip()
            blocks[name] = _block(lines, name)  # SGROUP, COLLECTION, OBJ3D...: read past, not used
        elif not upper.startswith(SKIPPED):
            raise lines.error(number, f"unexpected {text[:40]!r} in the connection table")
    if counts is None:
        raise lines.error(number, "connection table without a 'COUNTS' line")
    elements, coords, index = _v3000_atoms(lines, blocks.get("ATOM", []))
    table = _v3000_bonds(lines, blocks.get("BOND", []), index)
    counts_line, fields = counts
    try:
        declared = int(fields[1]), int(fields[2])
    except (IndexError, ValueError):
        raise lines.error(counts_line, f"expected 'COUNTS <atoms> <bonds> ...', got {' '.join(fields)[:40]!r}") from None
    if declared != (len(elements), len(table)):
        raise lines.error(counts_line, f"COUNTS declares {declared[0]} atoms and {declared[1]} bonds, the blocks "
                                       f"hold {len(elements)} atoms and {len(table)} bonds")
    return elements, coords, table


SKIPPED = ("LINKNODE",)  # single-line CTAB entries that carry nothing the graph tokens use


def _v3000_atoms(lines: Lines, rows: list[tuple[int, list[str]]]) -> tuple[list[str], np.ndarray, dict[int, int]]:
    """Atom entries -> (symbols `[n]`, coordinates `[n, 3]`, atom index as written -> 1-based position)."""
    elements, coords, index = [], np.zeros((len(rows), 3)), {}
    for position, (number, fields) in enumerate(rows, start=1):
        try:
            if len(fields) < 5:
                raise ValueError
            atom, coords[position - 1] = int(fields[0]), [float(v) for v in fields[2:5]]
        except ValueError:
            raise lines.error(number, f"expected an atom entry 'index type x y z ...', "
                                      f"got {' '.join(fields)[:40]!r}") from None
        if atom in index:
            raise lines.error(number, f"atom index {atom} appears twice")
        index[atom] = position
        elements.append(fields[1])
    return elements, coords, index


def _v3000_bonds(lines: Lines, rows: list[tuple[int, list[str]]], index: dict[int, int]) -> np.ndarray:
    """Bond entries -> `[m, 3]` int64 (atom 1, atom 2 as 1-based positions, bond type)."""
    table = np.zeros((len(rows), 3), dtype=np.int64)
    for i, (number, fields) in enumerate(rows):
        try:
            kind, first, second = int(fields[1]), int(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            raise lines.error(number, f"expected a bond entry 'index type atom1 atom2 ...', "
                                      f"got {' '.join(fields)[:40]!r}") from None
        unknown = [a for a in (first, second) if a not in index]
        if unknown:
            raise lines.error(number, f"bond between atoms {first} and {second}; atom {unknown[0]} is not in "
                                      f"the ATOM block")
        table[i] = [index[first], index[second], kind]
        check_bond(lines, number, table[i], len(index))
    return table
