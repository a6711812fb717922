"""Free text folded to one comparable form before any keyword or registry is matched against it.

Every free-text field of a request is written by the requester, so a plain substring test is beaten
by "I.C.E.", "1CE", Cyrillic "ІСЕ", fullwidth letters or a zero-width space. Both sides of every
comparison (the text and the terms) therefore go through the same fold, and a spelling trick changes
nothing: each character is mapped to the ASCII letter it is confusable with (Unicode TR39 data, as
shipped by the ``confusable-homoglyphs`` package and read from the installed package, never fetched)
or else NFKC-normalised, case-folded, stripped of accents and invisible characters, and its digit or
symbol substitute undone (0→o, 1/l/|→i, 3→e, 4/@→a, 5/$→s, 7→t …). Punctuation separates words,
except that dotted or spaced-out letters ("I.C.E.", "I C E") close up into one word.

Matching is on whole folded words and phrases, so "police" and "device" never contain "ice". The
folded form is only for comparing: it collapses "i" and "l", so it is never shown to anyone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

__all__ = ["TermMatcher", "Word", "fold_key", "fold_words"]

# Digit and symbol stand-ins, applied after the confusables table and case folding. "l" and "i" are
# one letter here because "1" and "|" stand for either.
_SUBSTITUTES = {
    "0": "o",
    "1": "i",
    "l": "i",
    "|": "i",
    "3": "e",
    "4": "a",
    "@": "a",
    "5": "s",
    "$": "s",
    "6": "g",
    "7": "t",
    "8": "b",
    "9": "g",
    "€": "e",
    "¢": "c",
    "£": "i",
}
_JOINERS = frozenset("._")  # dots and underscores close up single letters: "I.C.E." -> "ice"
_DROPPED = frozenset({"Cf", "Mn", "Me"})  # zero-width and bidi controls, accents, enclosing marks
_SQUASH_MIN = 12  # phrases at least this long also match with their spaces removed (see below)
_MEMO_TEXT = 200  # the longest text whose matches ``find(..., remember=True)`` keeps
_MEMO_LIMIT = 4096
_GUARD_MIN = 7  # the shortest piece of run-together terms tried first on behalf of them all
_GUARD_SHARED = 3  # ... and how many roots must share it


def _confusables() -> dict[str, str]:
    """Each non-ASCII character mapped to the ASCII letters or digits it can be mistaken for.

    The package's data is TR39's confusables.txt made symmetric, so for a character outside ASCII
    its ASCII look-alikes are its TR39 prototype or the ASCII letters that have it as theirs. After
    case folding and the digit stand-ins those never disagree, so the shortest one is taken.
    """
    data = json.loads(
        resources.files("confusable_homoglyphs")
        .joinpath("confusables.json")
        .read_text(encoding="utf-8")
    )
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_glyphs = sorted(
            (g["c"] for g in glyphs if g["c"].isascii() and g["c"].isalnum()),
            key=lambda glyph: (len(glyph), glyph),
        )
        if ascii_glyphs:
            table[char] = ascii_glyphs[0]
    return table


_CONFUSABLES = _confusables()


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One character's folded form: letters and digits, "." for a joiner, " " for a separator.

    Folded again until nothing changes ("Ǣ" -> "æ" -> "ae"), so a folded text folds to itself and
    a term and a text always meet in the same form.
    """
    folded = _fold_once(char)
    for _ in range(4):  # a handful of rounds reach the fixed point for every Unicode character
        again = "".join(_fold_once(piece) for piece in folded)
        if again == folded:
            break
        folded = again
    return folded


def _fold_once(char: str) -> str:
    out = []
    # The look-alike comes first: NFKC would turn Greek "Ϲ" (looks like C) into "Σ" (folds to "o").
    for compat in _CONFUSABLES.get(char) or unicodedata.normalize("NFKC", char):
        if unicodedata.category(compat) in _DROPPED:
            continue
        # Look-alike before and after case folding: Cyrillic "Н" looks like "H", its "н" like nothing.
        lower = _CONFUSABLES.get(compat, compat).casefold()
        for piece in lower:
            for base in unicodedata.normalize("NFKD", _CONFUSABLES.get(piece, piece).casefold()):
                if unicodedata.category(base) in _DROPPED:
                    continue
                base = _SUBSTITUTES.get(base, base)
                if base.isalnum():
                    out.append(base)
                else:
                    out.append("." if base in _JOINERS else " ")
    return "".join(out)


# ASCII folds one character to one character, so ASCII text is folded by a byte table (fast path).
_ASCII_FOLD = bytes(ord(_fold_char(chr(code))) for code in range(128)).ljust(256, b" ")


def _shape_of(char: str, folded: str) -> str:
    """How a character was typed, one mark per folded character: "a" an ASCII small letter, "A" an
    ASCII capital, "#" anything else that folds to a letter or digit; separators and joiners as
    they fold. Only a word shaped all "a"/"A" with at least one "a" was typed plainly."""
    if not (char.isascii() and char.isalpha()):
        return "".join("#" if piece.isalnum() else piece for piece in folded)
    return "A" if char.isupper() else "a"


_ASCII_SHAPE = bytes(
    ord(_shape_of(chr(code), chr(folded))) for code, folded in enumerate(_ASCII_FOLD[:128])
).ljust(256, b" ")


class Word(NamedTuple):
    """One folded word and whether it was typed as an ordinary word.

    ``plain`` is true for an ASCII word of letters only that is not all capitals ("ice", "Ice"): the
    keyword backstop does not read such a word as the agency acronym, as it never did ("slipped on
    ice"). "ICE", "I.C.E.", "1CE", "ІСЕ", "I C E" or "ice" with a zero-width space in it are
    not plain.
    """

    text: str
    plain: bool


def _plain(shape: str) -> bool:
    return "a" in shape and not shape.strip("aA")


# Single letters closed up into one word: dotted within one chunk ("I.C.E.", "U.S"), or standing
# alone side by side ("I C E"). Such a word is shaped "#", so it is never plain.
_DOTTED_LETTERS = re.compile(r"(?<![^ ])\.*[^ .](?:\.+[^ .])+\.*(?![^ ])")
_SPACED_LETTERS = re.compile(r"(?<![^ ])[^ ](?: +[^ ])+(?![^ ])")
# Cheap necessary conditions for each (literal-first patterns scan fast), tried on " text ".
_MAYBE_DOTTED = re.compile(r"\.[^ .][ .]")
_MAYBE_SPACED = re.compile(r" [^ ] +[^ ] ")
_MAYBE = {_DOTTED_LETTERS: _MAYBE_DOTTED, _SPACED_LETTERS: _MAYBE_SPACED}


def _close_up(pattern: re.Pattern[str], folded: str, shape: str) -> tuple[str, str]:
    if _MAYBE[pattern].search(f" {folded} ") is None:
        return folded, shape
    out_folded, out_shape, last = [], [], 0
    for match in pattern.finditer(folded):
        letters = match.group().replace(".", "").replace(" ", "")
        out_folded += [folded[last : match.start()], letters]
        out_shape += [shape[last : match.start()], "#" * len(letters)]
        last = match.end()
    out_folded.append(folded[last:])
    out_shape.append(shape[last:])
    return "".join(out_folded), "".join(out_shape)


_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


def _fold_any(text: str) -> tuple[str, str]:
    """Text outside ASCII: its ASCII runs by the byte tables, the rest character by character."""
    folded: list[str] = []
    shape: list[str] = []  # pieces, each as long as its folded piece
    hidden = False  # an invisible character was just dropped
    for run in _RUNS.finditer(text):
        chunk = run.group()
        if chunk.isascii():
            data = chunk.encode("ascii")
            pieces = [(data.translate(_ASCII_FOLD).decode(), data.translate(_ASCII_SHAPE).decode())]
        else:
            pieces = [(_fold_char(char), char) for char in chunk]
        for piece, source in pieces:
            if not piece:
                # Zero-width and similar characters vanish, but the word they sat in was not
                # typed plainly: mark its letters on both sides of the invisible character.
                if shape and shape[-1][-1] not in " .":
                    shape[-1] = shape[-1][:-1] + "#"
                hidden = True
                continue
            marks = source if chunk.isascii() else _shape_of(source, piece)
            if hidden and piece[0].isalnum():
                marks = "#" + marks[1:]
            hidden = False
            folded.append(piece)
            shape.append(marks)
    return "".join(folded), "".join(shape)


def _fold(text: str) -> tuple[list[str], list[str]]:
    """Folded words and, for each, its shape (see ``_shape_of``); ``_fold_texts`` gives the words
    alone, faster, and always the same words."""
    if text.isascii():
        data = text.encode("ascii")
        folded, shape = data.translate(_ASCII_FOLD).decode(), data.translate(_ASCII_SHAPE).decode()
    else:
        folded, shape = _fold_any(text)
    if "." in folded:
        folded, shape = _close_up(_DOTTED_LETTERS, folded, shape)
        folded, shape = folded.replace(".", " "), shape.replace(".", " ")
    folded, shape = _close_up(_SPACED_LETTERS, folded, shape)
    return folded.split(), shape.split()


def _closed_up(match: re.Match[str]) -> str:
    return match.group().replace(".", "").replace(" ", "")


def _fold_texts(text: str) -> list[str]:
    """``_fold(text)[0]``, the folded words without their shapes. Matching needs the shapes only
    for the lenient reading of an acronym, so a text that hits no acronym is folded once, here."""
    if not text.isascii():
        return _fold(text)[0]  # per character: not worth a second copy of that path
    # As ``_close_up`` does, without the shapes: the same letters closed up the same way.
    folded = text.encode("ascii").translate(_ASCII_FOLD).decode()
    if "." in folded:
        if _MAYBE_DOTTED.search(f" {folded} ") is not None:
            folded = _DOTTED_LETTERS.sub(_closed_up, folded)
        folded = folded.replace(".", " ")
    if _MAYBE_SPACED.search(f" {folded} ") is not None:
        folded = _SPACED_LETTERS.sub(_closed_up, folded)
    return folded.split()


def fold_words(text: str) -> tuple[Word, ...]:
    """The folded words of ``text`` in order (see the module docstring for the fold)."""
    texts, shapes = _fold(text)
    return tuple(Word(word, _plain(shape)) for word, shape in zip(texts, shapes, strict=True))


def fold_key(text: str) -> str:
    """The folded words run together: one key for "federal_immigration", "Federal Immigration" …"""
    return "".join(word.text for word in fold_words(text))


def _is_acronym(spelling: str) -> bool:
    """Short all-capital agency acronyms ("ICE", "ERO"): as a plain word "ice" is weather."""
    return spelling.isupper() and spelling.isalpha() and len(spelling) <= 5


class _Needle(NamedTuple):
    """A run-together term, and the longer ones that contain it (tried only where it was found)."""

    text: str
    labels: frozenset[str]
    within: tuple[_Needle, ...]


def _needle_tree(squashed: dict[str, set[str]]) -> tuple[_Needle, ...]:
    """The run-together terms as a forest: each under a shorter term it contains, if any.

    A text holding a term holds every term inside it, so trying a term only where its parent was
    found finds exactly what trying every term finds ("departmentofhomeiandsecurity" is tried only
    in a text that holds "homeiandsecurity"), and an ordinary text tries the roots alone.
    """
    by_length = sorted(squashed, key=lambda needle: (len(needle), needle))
    parent = {
        needle: next((other for other in reversed(by_length[:index]) if other in needle), None)
        for index, needle in enumerate(by_length)
    }

    def node(needle: str) -> _Needle:
        children = tuple(node(child) for child in by_length if parent[child] == needle)
        return _Needle(needle, frozenset(squashed[needle]), children)

    return _guarded([node(needle) for needle in by_length if parent[needle] is None])


def _guarded(roots: list[_Needle]) -> tuple[_Needle, ...]:
    """The roots, those that share a piece of at least ``_GUARD_MIN`` letters put under it.

    A guard is a piece with no label of its own ("immigration" for "immigrationcourt",
    "boardofimmigrationappeais" ...): a text without it holds none of the terms under it, so an
    ordinary text is tried against a handful of guards instead of every root. Only a piece that at
    least ``_GUARD_SHARED`` roots share is worth one; each is grown to the longest piece they share.
    """
    out: list[_Needle] = []
    rest = roots
    while True:
        counts: dict[str, int] = {}
        for root in rest:
            text = root.text
            for piece in {text[i : i + _GUARD_MIN] for i in range(len(text) - _GUARD_MIN + 1)}:
                counts[piece] = counts.get(piece, 0) + 1
        shared = [(count, piece) for piece, count in counts.items() if count >= _GUARD_SHARED]
        if not shared:
            return (*out, *rest)
        piece = max(shared)[1]
        group = [root for root in rest if piece in root.text]
        piece = _grown(piece, [root.text for root in group])
        out.append(_Needle(piece, frozenset(), tuple(group)))
        rest = [root for root in rest if piece not in root.text]


def _grown(piece: str, texts: list[str]) -> str:
    """The longest piece around ``piece`` (as it first stands in ``texts[0]``) all ``texts`` hold."""
    first = texts[0]
    start = first.index(piece)
    end = start + len(piece)
    while end < len(first) and all(first[start : end + 1] in text for text in texts):
        end += 1
    while start > 0 and all(first[start - 1 : end] in text for text in texts):
        start -= 1
    return first[start:end]


_NOTHING: frozenset[str] = frozenset()


class TermMatcher:
    """Finds which of a set of terms occur in a text, each term compared in folded form.

    A term matches as a whole word or whole phrase of the folded text. A phrase also matches with
    its spaces removed ("HomelandSecurity"), and a term whose folded letters run to at least 12
    also matches inside the folded text with all its spaces removed ("Home land Security"), where
    an accidental hit is vanishingly unlikely. ``find(..., lenient=True)`` skips acronym hits on
    plain words (see ``Word``); the strict default is for agency names, where "ice" is "ICE".
    """

    def __init__(self, terms: Iterable[tuple[str, str]]) -> None:
        """``terms`` are (label, spelling) pairs; ``find`` returns the labels of those found."""
        self._words: dict[str, set[str]] = {}
        self._acronyms: dict[str, set[str]] = {}
        self._phrases: dict[str, dict[tuple[str, ...], set[str]]] = {}  # by first word
        self._squashed: dict[str, set[str]] = {}
        self._memo: dict[tuple[str, bool], frozenset[str]] = {}
        for label, spelling in terms:
            tokens = tuple(word.text for word in fold_words(spelling))
            if not tokens:
                continue
            joined = "".join(tokens)
            if len(tokens) == 1 and _is_acronym(spelling):
                self._acronyms.setdefault(joined, set()).add(label)
                continue
            self._words.setdefault(joined, set()).add(label)
            if len(tokens) > 1:
                self._phrases.setdefault(tokens[0], {}).setdefault(tokens, set()).add(label)
            if len(joined) >= _SQUASH_MIN:
                self._squashed.setdefault(joined, set()).add(label)
        # Every folded word that can start a hit: a text with none of them and no run-together
        # term in it has no hit, which is what almost every text is.
        self._heads = frozenset((*self._words, *self._acronyms, *self._phrases))
        self._needles = _needle_tree(self._squashed)

    def find(self, text: str, *, lenient: bool = False, remember: bool = False) -> frozenset[str]:
        """Labels of the terms in ``text``. With ``remember``, the answer for a short text is kept:
        agency names and purpose codes recur request after request, so each is folded once."""
        key = (text, lenient)
        cached = self._memo.get(key) if remember else None
        if cached is not None:
            return cached
        found = self._find(text, lenient=lenient)
        if remember and len(text) <= _MEMO_TEXT:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _find(self, text: str, *, lenient: bool) -> frozenset[str]:
        texts = _fold_texts(text)
        labels = self._squashed_labels("".join(texts))
        if not labels and self._heads.isdisjoint(texts):
            return _NOTHING
        present = set(texts)
        for word in present & self._words.keys():
            labels |= self._words[word]
        acronyms = present & self._acronyms.keys()
        if acronyms and lenient:
            # Only here do the shapes matter: fold again, keeping them (the same words come back).
            pairs = list(zip(texts, _fold(text)[1], strict=True))
            acronyms = {
                word
                for word in acronyms
                if not all(_plain(shape) for seen, shape in pairs if seen == word)
            }
        for word in acronyms:
            labels |= self._acronyms[word]
        for first in present & self._phrases.keys():
            for index in (i for i, seen in enumerate(texts) if seen == first):
                for tokens, found in self._phrases[first].items():
                    if tuple(texts[index : index + len(tokens)]) == tokens:
                        labels |= found
        return frozenset(labels)

    def _squashed_labels(self, squashed: str) -> set[str]:
        """Labels of the run-together terms inside ``squashed`` (see ``_needle_tree``)."""
        labels: set[str] = set()
        pending = [needle for needle in self._needles if needle.text in squashed]
        while pending:
            needle = pending.pop()
            labels |= needle.labels
            pending += [inner for inner in needle.within if inner.text in squashed]
        return labels
