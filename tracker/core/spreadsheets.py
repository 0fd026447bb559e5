"""Writing tables to CSV and XLSX: columns declared once, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tracker.core.time import to_local

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EURO_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    get: Callable[[Any], Any]
    kind: str = "text"  # text, money, int, date, datetime, percent


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)


def plain(value: Any) -> Any:
    """A cell value for CSV: amounts with two decimals, dates in ISO form, times in Luxembourg."""
    kind = type(value)
    if kind is str:  # most cells: checked first, and without a call
        return "'" + value if value and value[0] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if kind is Decimal:
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_lines(
    columns: list[Column], rows: Iterable[Any], header: bool = True, line_end: str = "\r\n"
) -> Iterator[str]:
    """The CSV text, in chunks of about 64 KB (streamable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    if header:
        writer.writerow([c.title for c in columns])
    for row in rows:
        writer.writerow([plain(c.get(row)) for c in columns])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "money" and isinstance(value, Decimal):
        return float(value)  # openpyxl stores numbers; the cell's format shows the euros
    if kind == "datetime" and isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(value)


FORMATS = {
    "money": EURO_FORMAT,
    "date": DATE_FORMAT,
    "datetime": DATETIME_FORMAT,
    "percent": "0.00",
}


def add_sheet(
    workbook: Workbook, title: str, columns: list[Column], rows: Iterable[Any], widths=None
):
    """A streamed sheet with a bold header, typed cells and sensible widths; returns it.

    The workbook is write-only, so a hundred thousand rows never sit in memory as cell objects.
    """
    sheet = workbook.create_sheet(title=title[:31])
    for index, column in enumerate(columns, start=1):
        width = (widths or {}).get(column.key, max(12, min(len(column.title) + 4, 40)))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [FORMATS.get(c.kind) for c in columns]
    for row in rows:
        values = []
        for column, fmt in zip(columns, formats, strict=True):
            value = xlsx_cell(column.get(row), column.kind)
            if fmt and value is not None:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = fmt
                values.append(cell)
            else:
                values.append(value)
        sheet.append(values)
    return sheet


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
