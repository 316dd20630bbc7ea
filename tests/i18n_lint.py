"""What the translation tests read: the text a template shows without marking it, the messages
marked in templates and Python, and the project's own catalogs.

The extraction follows what `makemessages` does (templates through Django's `templatize`,
Python through the gettext keywords Django passes to xgettext), so a message these functions
find is one `makemessages` would put in a catalog, without running xgettext in a test.
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
SOURCE_DIRS = ("cpms", "chargers", "billing")
TEMPLATES = ROOT / "templates"

# Words a template may show as they are in every language: units, formats and names. Acronyms
# (CSV, OCPP) and the protocol's CamelCase names (MeterValues) are names too, except those below.
UNTRANSLATABLE = {"kWh", "kW", "Wh", "var", "ws", "wss", "http", "https", "EVs", "eMAID", "URLs"}
TRANSLATABLE_ACRONYMS = {"VAT"}
NAME = re.compile(r"[A-Z0-9]+s?|[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[a-z]+[A-Z][A-Za-z0-9]*")

# Attributes whose values people read (or hear, from a screen reader).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
BUTTON_INPUTS = {"submit", "button", "reset"}
WORD = re.compile(r"[^\W\d_][^\W\d_'’.-]*[^\W\d_]|[^\W\d_]{2,}")
PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class Unmarked:
    template: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.text!r}"


def _is_word(word: str) -> bool:
    if word in UNTRANSLATABLE:
        return False
    return word in TRANSLATABLE_ACRONYMS or not NAME.fullmatch(word)


def words(text: str) -> list[str]:
    """The words of a text that a reader of another language needs translated."""
    return [w for w in WORD.findall(text.replace(PLACEHOLDER, " ")) if _is_word(w)]


class _TextFinder(HTMLParser):
    """Collects the data and the read attributes of a template whose tags were blanked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._raw: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._raw = tag
        for name, value in attrs:
            shown = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUTS
            )
            if shown and value and words(value):
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is None and words(data):
            self.found.append((self.getpos()[0], " ".join(data.replace(PLACEHOLDER, " ").split())))


def unmarked_text(path: Path) -> list[Unmarked]:
    """Text a template shows that is neither a variable nor inside a translation tag.

    Template tags and variables are blanked (they show data, not words); the content of
    `blocktranslate`, `comment` and `verbatim` blocks is left out.
    """
    source = path.read_text()
    shape: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        newlines = "\n" * token.contents.count("\n")
        if closing is not None:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            shape.append(newlines)
            continue
        if token.token_type == TokenType.TEXT:
            shape.append(token.contents)
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            closing = {
                "blocktranslate": "endblocktranslate",
                "blocktrans": "endblocktrans",
                "comment": "endcomment",
                "verbatim": "endverbatim",
            }.get(name)
        shape.append(PLACEHOLDER + newlines)
    finder = _TextFinder()
    finder.feed("".join(shape))
    finder.close()
    name = str(path.relative_to(ROOT))
    return [Unmarked(name, line, text) for line, text in finder.found]


def templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))


def python_sources() -> Iterator[Path]:
    for top in SOURCE_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


# --- messages -------------------------------------------------------------------------------

# The keywords Django's makemessages gives xgettext for Python: name -> (context, singular,
# plural) argument positions.
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


@dataclass(frozen=True)
class Message:
    msgid: str
    context: str | None = None
    plural: str | None = None


def _messages_in_code(code: str) -> Iterator[Message]:
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in KEYWORDS:
            continue
        context_at, singular_at, plural_at = KEYWORDS[name]
        args = node.args

        def literal(at: int | None, args: list[ast.expr] = args) -> str | None:
            if at is None or at >= len(args):
                return None
            arg = args[at]
            return (
                arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            )

        msgid = literal(singular_at)
        if msgid:
            yield Message(msgid, literal(context_at), literal(plural_at))


# templatize's output is Python for xgettext, but only line by line: read each call in it.
_CALL = re.compile(r"\b(?:n?p?gettext|_)\((?:[^()'\"]|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")*\)")


def template_messages(path: Path) -> Iterator[Message]:
    for call in _CALL.findall(templatize(path.read_text(), origin=str(path))):
        yield from _messages_in_code(call.replace("(u'", "('").replace(", u'", ", '"))


def python_messages(path: Path) -> Iterator[Message]:
    yield from _messages_in_code(path.read_text())


def all_messages() -> dict[Message, str]:
    """Every message the project marks, with the first file that marks it."""
    found: dict[Message, str] = {}
    for path in [*templates(), *python_sources()]:
        reader = template_messages if path.suffix != ".py" else python_messages
        for message in reader(path):
            found.setdefault(message, str(path.relative_to(ROOT)))
    return found


def catalogs(language: str) -> list[Path]:
    """The project's own catalogs of a language: LOCALE_PATHS and each app's locale/."""
    return sorted(
        path
        for path in ROOT.glob(f"**/locale/{language}/LC_MESSAGES/django.po")
        if ".venv" not in path.parts
    )


def translated(language: str) -> set[Message]:
    """Messages with a complete, reviewed (not fuzzy) translation in the project's catalogs."""
    done: set[Message] = set()
    for path in catalogs(language):
        for entry in polib.pofile(str(path)):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            if entry.msgid_plural:
                complete = bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
            else:
                complete = bool(entry.msgstr)
            if complete:
                done.add(Message(entry.msgid, entry.msgctxt, entry.msgid_plural or None))
    return done
