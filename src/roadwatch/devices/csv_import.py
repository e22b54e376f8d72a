"""Reading a CSV file of devices for bulk provisioning, into DeviceCreate's shape.

The file is what a spreadsheet exports: UTF-8 (a byte-order mark is fine), comma-separated,
a header row naming the columns in any order and case. Cells are trimmed; an empty cell
means the field's default (a generated token, no location, the generic type).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from roadwatch.devices.bulk import RowError
from roadwatch.platform.errors import InvalidInput

COLUMNS = ("name", "type", "label", "lon", "lat", "access_token", "profile_id")
REQUIRED = ("name",)
# DeviceCreate's fields as the columns they came from, for the error report
FIELD_NAMES = {"location.lon": "lon", "location.lat": "lat", "location": "lon,lat"}
NUMBERING = "CSV rows count data rows from 1, the header not counted"


@dataclass
class CsvDevices:
    rows: list[dict[str, Any]] = field(default_factory=list)
    # rows whose shape is wrong (a cell count that does not match the header)
    errors: list[RowError] = field(default_factory=list)


def _header(reader: Any) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("body: the CSV file is empty", field="body") from None
    columns = [cell.strip().lower() for cell in header]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"header: unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the columns are {', '.join(COLUMNS)}",
            field="header",
            columns=unknown,
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InvalidInput(f"header: column(s) given twice: {', '.join(repeated)}", field="header")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInput(
            f"header: missing column(s) {', '.join(missing)}", field="header", columns=missing
        )
    return columns


def _device(columns: list[str], cells: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        column: cell.strip() for column, cell in zip(columns, cells, strict=True) if cell.strip()
    }
    lon, lat = values.pop("lon", None), values.pop("lat", None)
    if lon is not None or lat is not None:
        # one of the two missing is reported by DeviceCreate's validation as such
        values["location"] = {k: v for k, v in (("lon", lon), ("lat", lat)) if v is not None}
    return values


def read_devices(body: bytes) -> CsvDevices:
    """The devices of a CSV file; refuses a file whose header or encoding is wrong."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"body: the CSV file is not UTF-8 (byte {exc.start})", field="body"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    result = CsvDevices()
    try:
        columns = _header(reader)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, as spreadsheets leave at the end
            number = len(result.rows) + 1
            if len(cells) != len(columns):
                result.errors.append(
                    RowError(
                        number,
                        "row",
                        f"has {len(cells)} cells, the header {len(columns)} "
                        f"(line {reader.line_num})",
                    )
                )
                result.rows.append({})
                continue
            result.rows.append(_device(columns, cells))
    except csv.Error as exc:
        raise InvalidInput(
            f"body: malformed CSV at line {reader.line_num}: {exc}", field="body"
        ) from None
    return result
