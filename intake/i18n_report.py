"""How completely each shipped locale is translated: interface, forms and tracks.

`intake i18n report` prints one line per locale and exits non-zero when a
shipped locale misses anything, so that CI (and `make test`) catches a text
added in English only; a question left blank in the field is worse than a
failed build.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from intake import i18n

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORMS_DIR = PROJECT_ROOT / "forms"
WORKFLOWS_DIR = PROJECT_ROOT / "workflows"


@dataclass(frozen=True)
class Share:
    """`done` of `total` texts translated."""

    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done == self.total

    def __str__(self) -> str:
        percent = 100.0 if self.total == 0 else 100.0 * self.done / self.total
        # Never round an incomplete share up to 100 %.
        if percent > 99.9 and not self.complete:
            percent = 99.9
        return f"{percent:5.1f} % ({self.done}/{self.total})"


@dataclass(frozen=True)
class Coverage:
    """The translated share of one locale's interface, form and track texts."""

    locale: str
    interface: Share
    forms: Share
    tracks: Share

    @property
    def complete(self) -> bool:
        return self.interface.complete and self.forms.complete and self.tracks.complete


def _language_maps(node: object) -> Iterator[dict[str, object]]:
    """Every per-language text of a definition: a mapping with an `en` text."""
    if isinstance(node, dict):
        if isinstance(node.get("en"), str):
            yield node
            return
        for value in node.values():
            yield from _language_maps(value)
    elif isinstance(node, list):
        for value in node:
            yield from _language_maps(value)


def definition_texts(paths: Iterable[Path]) -> list[dict[str, object]]:
    """The per-language texts of the definition files at `paths`."""
    texts: list[dict[str, object]] = []
    for path in sorted(paths):
        with path.open(encoding="utf-8") as handle:
            texts.extend(_language_maps(yaml.safe_load(handle)))
    return texts


def _share(texts: Sequence[dict[str, object]], locale: str) -> Share:
    done = sum(1 for text in texts if isinstance(text.get(locale), str) and text[locale])
    return Share(done, len(texts))


def _interface(locale: str, locales_dir: Path) -> Share:
    with (locales_dir / "messages.pot").open("rb") as handle:
        total = sum(1 for message in i18n.read_po(handle) if message.id)
    if locale == i18n.DEFAULT_LOCALE:
        return Share(total, total)
    po = locales_dir / locale / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return Share(0, total)
    return Share(total - len(i18n.untranslated(locale, locales_dir)), total)


def coverage(
    locales: Sequence[str] = i18n.SUPPORTED_LOCALES,
    *,
    locales_dir: Path = i18n.LOCALES_DIR,
    forms_dir: Path = FORMS_DIR,
    workflows_dir: Path = WORKFLOWS_DIR,
) -> list[Coverage]:
    """The coverage of every locale in `locales`."""
    form_texts = definition_texts(forms_dir.glob("*.yaml"))
    track_texts = definition_texts(workflows_dir.glob("*.yaml"))
    return [
        Coverage(
            locale=locale,
            interface=_interface(locale, locales_dir),
            forms=_share(form_texts, locale),
            tracks=_share(track_texts, locale),
        )
        for locale in locales
    ]


def print_report(rows: Sequence[Coverage], out: TextIO) -> None:
    """A table a person reads, then one line per incomplete locale."""
    out.write(f"{'locale':<8}{'interface':<22}{'form texts':<22}{'track texts':<22}\n")
    for row in rows:
        out.write(f"{row.locale:<8}{row.interface!s:<22}{row.forms!s:<22}{row.tracks!s:<22}\n")
    incomplete = [row.locale for row in rows if not row.complete]
    if incomplete:
        out.write(f"incomplete: {', '.join(incomplete)}\n")
    else:
        out.write("every shipped locale is complete\n")


def report_command(
    out: TextIO,
    *,
    locales_dir: Path = i18n.LOCALES_DIR,
    forms_dir: Path = FORMS_DIR,
    workflows_dir: Path = WORKFLOWS_DIR,
) -> int:
    """Print the report; 1 when a shipped locale is incomplete."""
    rows = coverage(locales_dir=locales_dir, forms_dir=forms_dir, workflows_dir=workflows_dir)
    print_report(rows, out)
    return 0 if all(row.complete for row in rows) else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(report_command(sys.stdout))
