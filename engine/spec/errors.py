"""The one exception a user's project file can cause, with where it went wrong."""

from __future__ import annotations

from collections.abc import Iterable


class SpecError(ValueError):
    """A project that cannot be loaded, validated or trained as written.

    The message names the file, the layer id and the field, so the CLI can print it on one
    line and the GUI can show it next to the block or form field that caused it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        layer: str | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = message
        self.file = file
        self.layer = layer
        self.field = field
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.layer:
            where.append(f"layer '{self.layer}'")
        if self.field:
            where.append(f"field '{self.field}'")
        return (": ".join([", ".join(where), self.reason]) if where else self.reason).replace(
            "\n", " "
        )

    def with_file(self, file: str) -> SpecError:
        """The same error, now naming the file it came from."""
        return SpecError(self.reason, file=file, layer=self.layer, field=self.field)


def closest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the nearest known name, or '' when nothing is close."""
    import difflib

    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return f" (did you mean '{lowered[match[0]]}'?)" if match else ""
