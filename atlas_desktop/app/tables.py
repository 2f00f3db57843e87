"""Plain-text tables for the CLI: a header line, then columns padded to their widest cell."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines to print; the last column is not padded (no trailing spaces for scripts to strip), and
    an empty value (None) shows as "-" so columns stay countable."""
    cells = [["-" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = [value.ljust(width) for value, width in zip(values[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, values[-1]])

    return [line(list(headers)), *(line(row) for row in cells)]
