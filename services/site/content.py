"""Information and advice as data: Markdown files with front matter, editable without code.

`content/<lang>/<slug>.md` holds one page: `title`, `summary`, `language`, `reviewed`
(the date someone last checked it) and `order` in its front matter, the advice below it.
A page without a translation is shown in English, marked as such. Raw HTML in the Markdown
is not rendered: whoever edits the advice cannot add a script or a third-party request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import frontmatter
from markdown_it import MarkdownIt

CONTENT = Path(__file__).parent / "content"
_REQUIRED = ("title", "summary", "language", "reviewed")


@dataclass(frozen=True)
class Advice:
    slug: str
    language: str
    title: str
    summary: str
    reviewed: date
    order: int
    html: str


class AdviceError(ValueError):
    """A content file is missing something; the message names the file."""


def _read(path: Path, lang: str, md: MarkdownIt) -> Advice:
    post = frontmatter.load(str(path))
    missing = [k for k in _REQUIRED if not post.get(k)]
    if missing:
        raise AdviceError(f"{path}: front matter lacks {', '.join(missing)}")
    if post["language"] != lang:
        raise AdviceError(f"{path}: language {post['language']!r} in the {lang}/ folder")
    reviewed = post["reviewed"]
    if not isinstance(reviewed, date):
        reviewed = date.fromisoformat(str(reviewed))
    return Advice(slug=path.stem, language=lang, title=str(post["title"]),
                  summary=str(post["summary"]), reviewed=reviewed,
                  order=int(str(post.get("order", 100))), html=md.render(post.content))


class Library:
    """All advice pages, read once at start-up (a broken file stops start-up, named)."""

    def __init__(self, directory: Path = CONTENT) -> None:
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        self._pages: dict[tuple[str, str], Advice] = {}
        for lang_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
            for path in sorted(lang_dir.glob("*.md")):
                page = _read(path, lang_dir.name, md)
                self._pages[(lang_dir.name, page.slug)] = page
        self.slugs = sorted({slug for lang, slug in self._pages if lang == "en"},
                            key=lambda s: (self._pages[("en", s)].order, s))

    def get(self, slug: str, lang: str) -> Advice | None:
        """The page in `lang`, else in English, else None."""
        return self._pages.get((lang, slug)) or self._pages.get(("en", slug))

    def index(self, lang: str) -> list[Advice]:
        """Every page, in order, each in `lang` where translated."""
        return [page for slug in self.slugs if (page := self.get(slug, lang)) is not None]
