"""Parsing untrusted XML: entity expansion, external entities and DTDs are refused."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from handwrite.errors import FormatError

MAX_XML_BYTES = 256 * 1024 * 1024


def parse_xml(data: bytes, name: str) -> Element:
    """Parse bytes into an element tree or raise FormatError naming ``name``."""
    if len(data) > MAX_XML_BYTES:
        raise FormatError(f"{name}: file is {len(data)} bytes, larger than the {MAX_XML_BYTES} accepted")
    if not data.strip():
        raise FormatError(f"{name}: file is empty")
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FormatError(f"{name}: refused unsafe XML ({type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise FormatError(f"{name}: malformed XML ({exc})") from exc


def local_name(tag: str) -> str:
    """Tag without its {namespace}."""
    return tag.rsplit("}", 1)[-1]
