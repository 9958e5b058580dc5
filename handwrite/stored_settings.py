"""Preprocessing settings as model files store them, and how a file from before a
setting existed is read: exactly as it was trained and has always read."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, Self


class StoredSettings:
    """Base of the preprocessing settings dataclasses a model file holds.

    A setting added after model files were first written must say, in
    `READ_WITHOUT`, the value a file that lacks it was read with (usually "off"):
    the class default is what new models train with, which an old network never
    saw. tests/test_modelfile.py holds every class to this."""

    READ_WITHOUT: ClassVar[dict[str, Any]] = {}

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict) -> Self:
        """The settings a model file holds; a setting it lacks as files without it read."""
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        known = {k: v for k, v in values.items() if k in fields}
        return cls(**{**cls.READ_WITHOUT, **known})
