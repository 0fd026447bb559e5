"""Writing tables to CSV and XLSX: columns declared once, formula injection neutralised."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

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
        writer.writerow([str(c.title) for c in columns])
    for row in rows:
        writer.writerow([plain(c.get(row)) for c in columns])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


EXCEL_EPOCH = datetime(1899, 12, 30)


def excel_serial(value: date) -> float:
    """A date or time as the day number a spreadsheet stores (times in Luxembourg)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = to_local(value).replace(tzinfo=None)
        delta = value - EXCEL_EPOCH
        return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return float((value - EXCEL_EPOCH.date()).days)


def xlsx_cell(value: Any, kind: str) -> Any:
    """A value as the sheet stores it: numbers as numbers (the column's format shows the
    euros or the date), text neutralised."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if kind in ("date", "datetime") and isinstance(value, date):
        return excel_serial(value)
    return neutralise(value)


FORMATS = {
    "money": EURO_FORMAT,
    "date": DATE_FORMAT,
    "datetime": DATETIME_FORMAT,
    "percent": "0.00",
}


class Workbook:
    """An XLSX written row by row to a temporary file (XlsxWriter's constant-memory mode), so a
    hundred thousand rows never sit in memory; ``chunks`` streams the finished file."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by chunks)
        self.book = xlsxwriter.Workbook(
            self.file,
            {
                "constant_memory": True,
                # Text stays text: neutralised formulas, numbers typed as words, addresses.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        self._formats: dict[tuple, Any] = {}

    def format(self, **properties):
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(properties)
        return self._formats[key]

    def close(self) -> None:
        self.book.close()
        self.file.seek(0)

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        try:
            self.close()
            while data := self.file.read(size):
                yield data
        finally:
            self.file.close()


@dataclass
class Sheet:
    name: str
    worksheet: Any
    rows: int  # without the header


def add_sheet(
    workbook: Workbook, title: str, columns: list[Column], rows: Iterable[Any], widths=None
) -> Sheet:
    """A sheet with a bold header that stays in view and filters, typed cells, sensible widths
    and print settings (landscape, one page wide, the header on every page)."""
    name = str(title)[:31]
    sheet = workbook.book.add_worksheet(name)
    for index, column in enumerate(columns):
        width = (widths or {}).get(column.key, max(12, min(len(str(column.title)) + 4, 40)))
        number_format = FORMATS.get(column.kind)
        cell_format = workbook.format(num_format=number_format) if number_format else None
        sheet.set_column(index, index, width, cell_format)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, [str(c.title) for c in columns], workbook.format(bold=True))
    kinds = [c.kind for c in columns]
    getters = [c.get for c in columns]
    dated = workbook.format(num_format=DATE_FORMAT)
    timed = workbook.format(num_format=DATETIME_FORMAT)
    mixed = [index for index, kind in enumerate(kinds) if kind == "mixed"]
    count = 0
    for count, row in enumerate(rows, start=1):
        values = [xlsx_cell(get(row), kind) for get, kind in zip(getters, kinds, strict=True)]
        dates = []
        for index in mixed:  # a date among other values carries its own format
            if isinstance(values[index], date):
                dates.append((index, values[index]))
                values[index] = None
        sheet.write_row(count, 0, values)
        for index, value in dates:
            formatted = timed if isinstance(value, datetime) else dated
            sheet.write_number(count, index, excel_serial(value), formatted)
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    return Sheet(name, sheet, count)


def new_workbook() -> Workbook:
    return Workbook()


def workbook_bytes(workbook: Workbook) -> bytes:
    return b"".join(workbook.chunks())
