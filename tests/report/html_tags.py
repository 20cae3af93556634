"""Helper of the report tests: the start tags of a page, as a browser's parser sees them."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of ``page`` with its attributes, in order."""
    parser = _Tags()
    parser.feed(page)
    return parser.tags
