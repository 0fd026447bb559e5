"""Checking uploaded files by their content and keeping them outside the web root."""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l

CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    content_type: str
    extensions: tuple[str, ...]


FILE_TYPES = {
    "pdf": FileType("pdf", "PDF", "application/pdf", (".pdf",)),
    "docx": FileType(
        "docx",
        "Word (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "xlsx": FileType(
        "xlsx",
        "Excel (XLSX)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "odt": FileType(
        "odt", "OpenDocument text (ODT)", "application/vnd.oasis.opendocument.text", (".odt",)
    ),
    "ods": FileType(
        "ods",
        "OpenDocument spreadsheet (ODS)",
        "application/vnd.oasis.opendocument.spreadsheet",
        (".ods",),
    ),
    "png": FileType("png", "PNG", "image/png", (".png",)),
    "jpeg": FileType("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg")),
}
ACCEPT_ATTRIBUTE = ",".join(ext for t in FILE_TYPES.values() for ext in t.extensions)
ALLOWED_LABEL = ", ".join(t.label.split(" (")[-1].rstrip(")") for t in FILE_TYPES.values())


class UploadRejected(Exception):
    """The file cannot be accepted; the message says why, for the person uploading."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


@dataclass
class StoredFile:
    stored_name: str
    size_bytes: int
    sha256: str
    file_type: FileType


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_FOLDER"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_for(stored_name: str) -> Path:
    """Where a stored file lives: two levels of fan-out under the upload folder."""
    return upload_root() / stored_name[:2] / stored_name


def sniff(path: Path) -> FileType | None:
    """The type a file really is, from its first bytes (and, for ZIP containers, their members)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"%PDF-"):
        return FILE_TYPES["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FILE_TYPES["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return FILE_TYPES["jpeg"]
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    return None


def _sniff_zip(path: Path) -> FileType | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                for key in ("odt", "ods"):
                    if mimetype == FILE_TYPES[key].content_type:
                        return FILE_TYPES[key]
                return None
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return FILE_TYPES["docx"]
                if "xl/workbook.xml" in names:
                    return FILE_TYPES["xlsx"]
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def safe_filename(filename: str) -> str:
    """A display name without paths or control characters (the stored name is random)."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name[:200] or "document"


def store_upload(stream: BinaryIO, filename: str) -> StoredFile:
    """Copy an upload to storage, checking size and content; nothing is kept if it is refused."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    stored_name = secrets.token_hex(20)
    target = path_for(stored_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(
                        _l("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024))
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        detected = sniff(partial)
        if detected is None:
            raise UploadRejected(
                _l(
                    "This file is not one of the accepted types (%(types)s), whatever its name says.",
                    types=ALLOWED_LABEL,
                )
            )
        extension = os.path.splitext(filename.lower())[1]
        if extension not in detected.extensions:
            raise UploadRejected(
                _l(
                    "The file's name ends in “%(ext)s” but its content is %(type)s. Rename it or "
                    "upload the right file.",
                    ext=extension or "(nothing)",
                    type=detected.label,
                )
            )
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return StoredFile(stored_name, size, digest.hexdigest(), detected)


def delete_stored(stored_name: str) -> None:
    path_for(stored_name).unlink(missing_ok=True)
