"""Parsing untrusted XML: entity expansion, external entities and DTDs are refused,
and every failure is a FormatError naming the file.

`iter_xml` streams a document element by element and drops each one once it
has been seen, so memory follows the nesting depth and what the caller keeps,
not the number of elements (a file of millions of tiny elements would
otherwise become gigabytes of tree before any check could refuse it).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from handwrite.errors import FormatError

MAX_XML_BYTES = 256 * 1024 * 1024


def parse_xml(data: bytes, name: str) -> Element:
    """Parse bytes into an element tree or raise FormatError naming ``name``."""
    _check_bytes(data, name)
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError, LookupError, ValueError) as exc:
        raise _format_error(exc, name) from exc


def iter_xml(data: bytes, name: str) -> Iterator[tuple[str, Element, str | None]]:
    """("start" or "end", element, local name of its parent or None for the root)
    for every element in document order. At "end" an element is complete (text,
    attributes; its children were seen and dropped already); right after, it is
    dropped from the tree too. Raises FormatError naming ``name`` for malformed
    or unsafe XML."""
    _check_bytes(data, name)
    parents: list[Element] = []
    events = SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
    while True:
        try:
            event, element = next(events)
        except StopIteration:
            return
        except (DefusedXmlException, SafeET.ParseError, LookupError, ValueError) as exc:
            raise _format_error(exc, name) from exc
        if event == "start":
            yield event, element, local_name(parents[-1].tag) if parents else None
            parents.append(element)
            continue
        parents.pop()
        yield event, element, local_name(parents[-1].tag) if parents else None
        if parents:
            # earlier siblings are gone already, so this is a removal from the front
            parents[-1].remove(element)


def root_name(data: bytes, name: str) -> str:
    """Local name of the root element, read from the start of the document only."""
    for _event, element, _parent in iter_xml(data, name):
        return local_name(element.tag)
    raise FormatError(f"{name}: no XML element")


def local_name(tag: str) -> str:
    """Tag without its {namespace}."""
    return tag.rsplit("}", 1)[-1]


def _check_bytes(data: bytes, name: str) -> None:
    if len(data) > MAX_XML_BYTES:
        raise FormatError(f"{name}: file is {len(data)} bytes, larger than the {MAX_XML_BYTES} accepted")
    if not data.strip():
        raise FormatError(f"{name}: file is empty")


def _format_error(exc: Exception, name: str) -> FormatError:
    if isinstance(exc, DefusedXmlException):
        return FormatError(f"{name}: refused unsafe XML ({type(exc).__name__})")
    return FormatError(f"{name}: malformed XML ({exc})")  # LookupError: "unknown encoding: ..."
