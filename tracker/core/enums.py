"""Rich enums: a stored value, a translated title and a Bootstrap badge class."""

from __future__ import annotations

import enum

import sqlalchemy as sa


class RichEnum(enum.StrEnum):
    """A string enum whose members carry a title (``__titles__``) and a CSS class (``__css__``)."""

    __titles__: dict = {}
    __css__: dict = {}

    @property
    def title(self) -> str:
        return str(self.__titles__.get(self.value, self.value.replace("_", " ").capitalize()))

    @property
    def css_class(self) -> str:
        return self.__css__.get(self.value, "secondary")

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.title) for member in cls]


def enum_column(enum_cls: type[RichEnum], name: str) -> sa.Enum:
    """A VARCHAR column with a named CHECK constraint listing the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
