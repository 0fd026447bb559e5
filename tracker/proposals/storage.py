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


class ContentRefused(Exception):
    """The file claims a type its content does not have, or carries something dangerous."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


# Markers of HTML or script, which a browser could run if it ever sniffed the file as a page.
_ACTIVE_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg", b"<object")
_MAX_MEMBERS = 5000
_MAX_UNPACKED = 500 * 1024 * 1024


def _edges(path: Path, size: int = 4096) -> tuple[bytes, bytes]:
    with path.open("rb") as handle:
        head = handle.read(size)
        handle.seek(0, os.SEEK_END)
        length = handle.tell()
        handle.seek(max(length - size, 0))
        tail = handle.read(size)
    return head, tail


def _no_active_content(head: bytes, tail: bytes) -> None:
    lowered = (head + tail).lower()
    if any(marker in lowered for marker in _ACTIVE_MARKERS):
        raise ContentRefused(_l("The file contains web-page or script content; it is refused."))


def _not_also_an_archive(path: Path) -> None:
    if zipfile.is_zipfile(path):
        raise ContentRefused(
            _l("The file is also a ZIP archive (a disguised file); it is refused.")
        )


def _check_image(path: Path, kind: str) -> None:
    """Decode the whole image: a few magic bytes are not a picture."""
    import warnings

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 60_000_000
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if (image.format or "").lower() != kind:
                    raise ContentRefused(_l("The image is not what its first bytes say."))
                image.load()
    except ContentRefused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise ContentRefused(
            _l("The image cannot be read: it is damaged or not an image.")
        ) from None
    if kind == "png":
        _png_ends_at_iend(path)


def _png_ends_at_iend(path: Path) -> None:
    """A PNG is a list of chunks ending with IEND; anything after it is something else."""
    with path.open("rb") as handle:
        handle.seek(8)
        while True:
            header = handle.read(8)
            if len(header) < 8:
                raise ContentRefused(_l("The image cannot be read: it is damaged or not an image."))
            length = int.from_bytes(header[:4], "big")
            handle.seek(length + 4, os.SEEK_CUR)
            if header[4:8] == b"IEND":
                break
        if handle.read(1):
            raise ContentRefused(
                _l("The image has other data hidden after its end; it is refused.")
            )


def _check_pdf(path: Path) -> None:
    head, tail = _edges(path, 1024)
    if not head.startswith(b"%PDF-") or b"%%EOF" not in tail:
        raise ContentRefused(_l("The PDF is incomplete: it lacks its header or its end marker."))


def _check_zip_members(archive: zipfile.ZipFile) -> set[str]:
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS or sum(i.file_size for i in infos) > _MAX_UNPACKED:
        raise ContentRefused(_l("The document unpacks to too much data; it is refused."))
    names = {info.filename for info in infos}
    lowered = {name.lower() for name in names}
    if any(name.endswith("vbaproject.bin") or "vbadata" in name for name in lowered):
        raise ContentRefused(
            _l(
                "The document contains macros; save it without macros (DOCX, XLSX) and upload again."
            )
        )
    if any(name.startswith(("basic/", "scripts/")) for name in lowered):
        raise ContentRefused(
            _l("The document contains macros or scripts; save it without them and upload again.")
        )
    return names


_OOXML_MAIN = {
    "docx": (
        "word/document.xml",
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "xlsx": (
        "xl/workbook.xml",
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
}


def _sniff_zip(path: Path) -> FileType | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = _check_zip_members(archive)
            if "mimetype" in names:
                first = archive.infolist()[0]
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                for key in ("odt", "ods"):
                    if mimetype == FILE_TYPES[key].content_type:
                        if (
                            first.filename != "mimetype"
                            or not {
                                "content.xml",
                                "META-INF/manifest.xml",
                            }
                            <= names
                        ):
                            raise ContentRefused(_l("The OpenDocument file is incomplete."))
                        return FILE_TYPES[key]
                return None
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")[:200_000]
                if b"macroenabled" in types.lower() or b"vbaproject" in types.lower():
                    raise ContentRefused(
                        _l(
                            "The document contains macros; save it without macros (DOCX, XLSX) and upload again."
                        )
                    )
                for key, (part, main_type) in _OOXML_MAIN.items():
                    if part in names:
                        if main_type not in types:
                            raise ContentRefused(
                                _l(
                                    "The document is not a plain %(type)s file.",
                                    type=FILE_TYPES[key].label,
                                )
                            )
                        return FILE_TYPES[key]
    except (zipfile.BadZipFile, OSError, KeyError, IndexError, EOFError, RuntimeError):
        return None
    return None


def sniff(path: Path) -> FileType | None:
    """The type a file really is, from its content; ``ContentRefused`` if it is dangerous.

    More than the first bytes: images are decoded to the end (and a PNG ends at its IEND
    chunk), a PDF needs its header and end marker, Office and OpenDocument files the members
    their type requires and no macros, and no file may also be a ZIP archive or carry web-page
    or script content (polyglots).
    """
    head, tail = _edges(path)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    else:
        return None
    _no_active_content(head, tail)
    _not_also_an_archive(path)
    if kind == "pdf":
        _check_pdf(path)
    else:
        _check_image(path, kind)
    return FILE_TYPES[kind]


def safe_filename(filename: str) -> str:
    """A display name without paths or control characters (the stored name is random)."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name[:200] or "document"


def store_upload(stream: BinaryIO, filename: str, allowed_types=None) -> StoredFile:
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
                        _l(
                            "“%(name)s” is larger than the %(mb)s MB a document may have.",
                            name=safe_filename(filename),
                            mb=limit // (1024 * 1024),
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        try:
            detected = sniff(partial)
        except ContentRefused as refused:
            raise UploadRejected(f"“{safe_filename(filename)}”: {refused.message}") from None
        if detected is None:
            raise UploadRejected(
                _l(
                    "This file is not one of the accepted types (%(types)s), whatever its name says.",
                    types=ALLOWED_LABEL,
                )
            )
        if allowed_types and detected.key not in allowed_types:
            raise UploadRejected(
                _l(
                    "This question takes %(types)s documents, not %(type)s.",
                    types=", ".join(FILE_TYPES[k].label for k in allowed_types if k in FILE_TYPES),
                    type=detected.label,
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
