"""Matching keys for Chinese organisation names (DOMAIN.md §7.2, ECOSYSTEM.md §2.10).

Sales people write the same customer many ways: 中国工商银行股份有限公司北京市分行, 北京工商银行, 北京工行,
中國工商銀行北京分行 (seed 002). `name_key` reduces a name to a NameKey of two parts:

- `core`: what identifies the organisation (its trade name and industry), with the organisation form
  (有限公司, 集团 ...), branch words (分行, 支行 ...), region words, a leading 中国/中华, spaces, punctuation and
  bracket variants removed, abbreviations expanded (工行 → 中国工商银行), traditional characters made
  simplified, full-width characters half-width and latin letters lower-case;
- `region`: the region words of the name, which tell a head office from its branches and branches from
  each other (浙江省分行 ≠ 杭州市分行 ≠ 杭州西湖支行).

How a name is read
------------------
The cleaned name is cut into tokens by longest match against one lexicon: region words (from Region:
浙江省 and 浙江, 杭州市 and 杭州, 西湖区 and 西湖), organisation-form and branch words, 中国/中华, the
abbreviations and the full names they stand for (unsplittable, so 上海浦东发展银行 keeps its 上海). Runs of
other characters are plain text. Then:

1. an abbreviation is expanded only when it is a whole token: both neighbours are recognised words or
   the ends of the name (北京|工行, 工行|杭州|分行). Inside plain text it is left alone: 福建行政学院 does
   not contain 建行, 杭州电信器材 is not 中国电信;
2. region words and 中国 are removed unless they sit between two runs of plain text (娃哈哈杭州食品 keeps
   杭州 as part of the name); organisation-form and branch words are always removed;
3. a leading 中国/中华 is dropped from the core;
4. when what is left is only industry words (银行, 大学, 人民政府 ...), the region or national word just
   before it is the trade name and goes back into the core: 北京银行 is Bank of Beijing, not the 北京
   branch of a bank; 中国银行 is not 银行; 浙江大学 is not a 大学 in 浙江;
5. a province is dropped from the region when a city or district is also named (浙江杭州工行 = 杭州工行).

Known limits: a trade name equal to a county name at the start of a name (长兴..., 西湖...) is read as a
region (consistently, so two spellings still agree); a group company and its listed arm share a core
(中国石油天然气集团有限公司 / 中国石油天然气股份有限公司): their credit codes tell them apart.

`normalize` is the pure function; `name_key` feeds it the editable dictionary (NameAbbreviation rows)
and the Region names, compiled once per process and recompiled after either table changes (signals
below). Stored keys (Customer.name_core/name_region) are recomputed by customers.services.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from django.db.models.signals import post_delete, post_save
from opencc import OpenCC

from customers.naming_data import (
    BRANCH_WORDS,
    GENERIC_WORDS,
    LEGAL_FORM_WORDS,
    NATIONAL_PREFIXES,
    PROVINCE_SUFFIXES,
    REGION_SUFFIX_PATTERN,
)

# Building the converter reads its dictionaries from disk: once per process.
_T2S = OpenCC("t2s")

_OPEN_BRACKETS = "([{【〔〖「『《〈｛［"
_CLOSE_BRACKETS = ")]}】〕〗」』》〉｝］"
_BRACKETS = str.maketrans(_OPEN_BRACKETS + _CLOSE_BRACKETS, "(" * len(_OPEN_BRACKETS) + ")" * len(_CLOSE_BRACKETS))
_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
_REGION_STEM = re.compile(rf"^(.{{2,}}?){REGION_SUFFIX_PATTERN}$")


@dataclass(frozen=True)
class NameKey:
    """Two names with equal keys name the same organisation unit (stored as Customer.name_core/name_region)."""

    core: str  # trade name + industry: no organisation form, branch or region words, abbreviations expanded
    region: str  # region words without suffix, sorted, joined with "|" (杭州|西湖); "" when none


class _Kind(Enum):
    TEXT = "text"
    NAME = "name"  # a known organisation's full name (an abbreviation's expansion), never split
    ABBREVIATION = "abbreviation"
    LEGAL = "legal"
    BRANCH = "branch"
    REGION = "region"
    NATIONAL = "national"


# When one word belongs to several lists, the first kind here wins (a full name beats an abbreviation
# inside it, an abbreviation beats a region word it contains).
_PRIORITY = [_Kind.NAME, _Kind.ABBREVIATION, _Kind.LEGAL, _Kind.BRANCH, _Kind.REGION, _Kind.NATIONAL]
_BODY = {_Kind.TEXT, _Kind.NAME}


@dataclass
class _Token:
    kind: _Kind
    text: str
    value: str  # canonical form: region word without suffix, expansion of an abbreviation


def clean(text: str) -> str:
    """NFKC (full width → half width), traditional → simplified, lower case, bracket variants unified."""
    text = unicodedata.normalize("NFKC", text or "")
    return _T2S.convert(text).lower().translate(_BRACKETS)


def _alnum(text: str) -> str:
    # Letters (all scripts, so CJK too) and digits only: spaces, punctuation and symbols go.
    return "".join(ch for ch in text if ch.isalnum())


def region_stem(name: str) -> str:
    """浙江省 → 浙江, 广西壮族自治区 → 广西, 西湖区 → 西湖; names that would drop below 2 characters keep
    their suffix."""
    match = _REGION_STEM.match(name)
    return match.group(1) if match else name


class _Lexicon:
    """Everything normalize needs, compiled from the dictionary and the region names."""

    def __init__(self, abbreviations: Iterable[tuple[str, str]], region_words: Iterable[str]):
        words: dict[str, tuple[_Kind, str]] = {}

        def add(word: str, kind: _Kind, value: str) -> None:
            if not word:
                return
            current = words.get(word)
            if current is None or _PRIORITY.index(kind) < _PRIORITY.index(current[0]):
                words[word] = (kind, value)

        for word in LEGAL_FORM_WORDS:
            add(word, _Kind.LEGAL, "")
        for word in BRANCH_WORDS:
            add(word, _Kind.BRANCH, "")
        for word in NATIONAL_PREFIXES:
            add(word, _Kind.NATIONAL, word)
        self.provinces: set[str] = set()
        for raw in region_words:
            full = _alnum(clean(raw))
            stem = region_stem(full)
            add(full, _Kind.REGION, stem)
            add(stem, _Kind.REGION, stem)
            if full.endswith(PROVINCE_SUFFIXES):
                self.provinces.add(stem)
        self.region_values = {value for kind, value in words.values() if kind is _Kind.REGION}
        legal = sorted(LEGAL_FORM_WORDS, key=len, reverse=True)
        for abbreviation, full_name in abbreviations:
            # The expansion is stored without its organisation form so that 国家电网有限公司 in the
            # dictionary and 国家电网 in a name are the same word.
            expansion = _alnum(clean(full_name))
            stripped = True
            while stripped:
                stripped = False
                for word in legal:
                    if expansion.endswith(word) and len(expansion) > len(word):
                        expansion, stripped = expansion[: -len(word)], True
                        break
            add(expansion, _Kind.NAME, expansion)
            add(_alnum(clean(abbreviation)), _Kind.ABBREVIATION, expansion)
        self.words = words
        self.max_len = max(map(len, words), default=1)
        self.generic = frozenset(GENERIC_WORDS)
        self.generic_max_len = max(map(len, self.generic))

    def tokenize(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        i = 0
        while i < len(text):
            for length in range(min(self.max_len, len(text) - i), 0, -1):
                hit = self.words.get(text[i : i + length])
                if hit:
                    tokens.append(_Token(hit[0], text[i : i + length], hit[1]))
                    i += length
                    break
            else:
                if tokens and tokens[-1].kind is _Kind.TEXT:
                    tokens[-1].text += text[i]
                    tokens[-1].value += text[i]
                else:
                    tokens.append(_Token(_Kind.TEXT, text[i], text[i]))
                i += 1
        return tokens

    def is_generic(self, text: str) -> bool:
        """True when text is made only of industry words (银行, 工业大学 = 工业 + 大学)."""
        if not text:
            return False
        reachable = [True] + [False] * len(text)
        for end in range(1, len(text) + 1):
            for start in range(max(0, end - self.generic_max_len), end):
                if reachable[start] and text[start:end] in self.generic:
                    reachable[end] = True
                    break
        return reachable[-1]

    def strip_national(self, core: str) -> str:
        for prefix in NATIONAL_PREFIXES:  # longest first
            rest = core[len(prefix) :]
            if core.startswith(prefix) and rest and not self.is_generic(rest):
                return rest
        return core

    def leading_word(self, core: str) -> str:
        """The region or national word a core starts with ('' if none): 浙江大学 → 浙江."""
        for length in range(min(self.max_len, len(core) - 1), 1, -1):
            head = core[:length]
            if head in self.region_values or head in NATIONAL_PREFIXES:
                return head
        return ""

    def organisation(self, core: str) -> str:
        """The dictionary organisation a core starts with ('' if none): 农业银行 → 中国农业银行."""
        for text in (core, *(prefix + core for prefix in NATIONAL_PREFIXES)):
            for length in range(min(self.max_len, len(text)), 1, -1):
                hit = self.words.get(text[:length])
                if hit and hit[0] is _Kind.NAME:
                    return hit[1]
        return ""

    def key(self, name: str) -> NameKey:
        text = clean(name)
        regions: list[str] = []

        def bracketed(match: re.Match) -> str:
            # (杭州), (中国): a region or country in brackets qualifies the name, it is not part of it.
            inner = _alnum(match.group(1))
            hit = self.words.get(inner)
            if hit and hit[0] is _Kind.REGION:
                regions.append(hit[1])
                return ""
            if hit and hit[0] is _Kind.NATIONAL:
                return ""
            return match.group(1)

        tokens = self.tokenize(_alnum(_BRACKET_GROUP.sub(bracketed, text)))
        if not tokens:
            return NameKey(core="", region="|".join(sorted(set(regions))))
        tokens = self._resolve_abbreviations(tokens)
        self._keep_words_inside_text(tokens)

        body = [i for i, t in enumerate(tokens) if t.kind in _BODY]
        core = self.strip_national("".join(tokens[i].value for i in body))
        regions += [t.value for t in tokens if t.kind is _Kind.REGION]
        if len(core) < 2 or self.is_generic(core):
            # The region or national word in front of an industry word is the trade name (北京银行);
            # a single character is no name either (宁波舟山港 → 舟山港, not 港).
            limit = body[0] if body else len(tokens)
            before = [t for t in tokens[:limit] if t.kind in (_Kind.REGION, _Kind.NATIONAL)]
            if before:
                core = before[-1].value + core
                if before[-1].kind is _Kind.REGION:
                    regions.remove(before[-1].value)
        if not core:
            core = "".join(t.text for t in tokens)  # nothing but form words: keep them rather than ""
        unique = set(regions)
        if unique - self.provinces:
            unique -= self.provinces
        return NameKey(core=core, region="|".join(sorted(unique)))

    @staticmethod
    def _resolve_abbreviations(tokens: list[_Token]) -> list[_Token]:
        """Expand whole-token abbreviations into names; any other abbreviation is plain text."""

        def is_text(i: int) -> bool:
            return 0 <= i < len(tokens) and tokens[i].kind is _Kind.TEXT

        resolved: list[_Token] = []
        for i, token in enumerate(tokens):
            if token.kind is _Kind.ABBREVIATION:
                if is_text(i - 1) or is_text(i + 1):
                    token = _Token(_Kind.TEXT, token.text, token.text)
                else:
                    token = _Token(_Kind.NAME, token.text, token.value)
            if token.kind is _Kind.TEXT and resolved and resolved[-1].kind is _Kind.TEXT:
                resolved[-1].text += token.text
                resolved[-1].value += token.value
            else:
                resolved.append(token)
        return resolved

    @staticmethod
    def _keep_words_inside_text(tokens: list[_Token]) -> None:
        """A region or 中国 between two runs of plain text is part of the name (娃哈哈杭州食品)."""
        for i in range(1, len(tokens) - 1):
            if (
                tokens[i].kind in (_Kind.REGION, _Kind.NATIONAL)
                and tokens[i - 1].kind is _Kind.TEXT
                and tokens[i + 1].kind is _Kind.TEXT
            ):
                tokens[i].kind, tokens[i].value = _Kind.TEXT, tokens[i].text


@functools.lru_cache(maxsize=16)
def _compile(abbreviations: tuple[tuple[str, str], ...], region_words: tuple[str, ...]) -> _Lexicon:
    return _Lexicon(abbreviations, region_words)


def normalize(name: str, *, abbreviations: dict[str, str], region_words: Iterable[str]) -> NameKey:
    """The matching key of a name, given the abbreviation dictionary and the region names (no database)."""
    lexicon = _compile(tuple(sorted(abbreviations.items())), tuple(region_words))
    return lexicon.key(name)


@functools.cache
def _db_lexicon() -> _Lexicon:
    from customers.models import NameAbbreviation, Region

    abbreviations = NameAbbreviation.objects.order_by("abbreviation").values_list("abbreviation", "full_name")
    regions = Region.objects.order_by("code").values_list("name", flat=True)
    return _Lexicon(list(abbreviations), list(regions))


def name_key(name: str) -> NameKey:
    """The matching key of a name with the dictionary and regions from the database (cached per process)."""
    return _db_lexicon().key(name)


def shared_leading_word(core_a: str, core_b: str) -> str:
    """The region or national word both cores start with, e.g. 浙江 for 浙江大学 / 浙江工业大学.

    Such a word is there only because the rest is an industry word (rule 4 above); it is no evidence
    that the two names are alike, so similarity is measured without it.
    """
    lexicon = _db_lexicon()
    head = lexicon.leading_word(core_a)
    return head if head and core_b.startswith(head) else ""


def known_organisation(core: str) -> str:
    """The dictionary organisation (an abbreviation's full name) a core starts with, or ''.

    Two cores that start with different known organisations are different customers however alike
    they look: 农业银行 (中国农业银行) is not 农业发展银行 (中国农业发展银行).
    """
    return _db_lexicon().organisation(core)


def clear_cache(**kwargs) -> None:
    """Forget the compiled dictionary; the next name_key call reads the tables again."""
    _db_lexicon.cache_clear()


# Editing the dictionary or the regions takes effect at once in this process. Senders are given as
# "app.Model" strings (resolved when the app registry is ready) because customers.models may import
# this module. Other processes pick the change up when they restart; stored keys are refreshed by
# customers.services.
for _signal, _signal_name in ((post_save, "post_save"), (post_delete, "post_delete")):
    for _sender in ("customers.NameAbbreviation", "customers.Region"):
        _signal.connect(
            clear_cache, sender=_sender, dispatch_uid=f"customers.naming.clear_cache:{_signal_name}:{_sender}"
        )
