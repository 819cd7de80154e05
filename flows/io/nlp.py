"""Load jieba, its IDF table and the project's dictionaries once per process."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from functools import cache
from operator import itemgetter
from pathlib import Path

import jieba

from flows.io.model_cache import cached
from flows.io.posseg import JIEBA_DICT, FastPOSTokenizer, word_tags
from transforms.tables import NlpModels

DICTIONARY_DIR = Path(__file__).resolve().parents[2] / "dictionaries"
USER_DICT = DICTIONARY_DIR / "user_dict.txt"
STOPWORDS = DICTIONARY_DIR / "stopwords.txt"
PLACES = DICTIONARY_DIR / "places.txt"
SURNAMES = DICTIONARY_DIR / "surnames.txt"
GAZETTEER = DICTIONARY_DIR / "gazetteer.txt"
# jieba's IDF table, read here: importing `jieba.analyse` would load it a second time.
JIEBA_IDF = Path(jieba.__file__).with_name("analyse") / "idf.txt"


_first = itemgetter(0)
# Four-character compounds of these tags are split when both halves are common words
# (a jieba dictionary frequency of at least COMMON_WORD_FREQ).
SPLIT_COMPOUND_TAGS = frozenset({"n", "vn", "v", "l", "nz"})
COMMON_WORD_FREQ = 300


class JiebaTagger:
    """A jieba POS tokenizer owned by the project: jieba's global default stays untouched.

    Tags are `jieba.posseg`'s exactly; only its route and unknown-word searches run
    faster (`flows.io.posseg`). The dictionary is read when first needed, or by
    `prepare`: a process that only finishes partitions never tags.
    """

    def __init__(
        self,
        user_dict: Path | None,
        *,
        extra_words: Iterable[str] = (),
        main_dict: Path | None = None,
    ) -> None:
        self._user_dict = user_dict
        self._extra_words = tuple(extra_words)
        self._main_dict = main_dict
        self._loaded: tuple[jieba.Tokenizer, FastPOSTokenizer] | None = None

    def _load(self) -> tuple[jieba.Tokenizer, FastPOSTokenizer]:
        if self._loaded is None:
            main_dict = self._main_dict
            tokenizer = jieba.Tokenizer(str(main_dict) if main_dict else jieba.DEFAULT_DICT)
            initialize(tokenizer)
            if self._user_dict is not None:
                tokenizer.load_userdict(str(self._user_dict))
            for word in self._extra_words:
                tokenizer.add_word(word)
            posseg = FastPOSTokenizer(tokenizer, refine=self._split_compounds)
            # The dictionary is final: routes come from a compiled copy of it.
            posseg.freeze()
            self._loaded = tokenizer, posseg
        return self._loaded

    def prepare(self) -> None:
        """Read the dictionary and compile its copy now, before the first text."""
        self._load()[1].compile()

    def words(self, text: str) -> list[str]:
        """Dictionary-only segmentation (no HMM guesses), for evidence about line breaks."""
        return list(self._load()[0].cut(text, HMM=False))

    def tag(self, text: str) -> list[tuple[str, str]]:
        """POS-tagged words, fine-grained: a compound of two common words is two tokens.

        jieba's dictionary lists compounds such as 国有企业 and 信息技术 as single words;
        both SIGHAN standards (PKU, MSR), and keyword counts, want 国有 企业. Names
        (nr, ns, nt ...) are never split.
        """
        return self._load()[1].tag(text)

    def _split_compounds(self, words: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """`tag`'s change to the words of a block of Han characters (the tagger keeps the
        result with the block, so a block seen before costs nothing more)."""
        if 4 not in map(len, map(_first, words)):
            return words
        tokenizer, posseg = self._load()
        freq = tokenizer.FREQ
        out: list[tuple[str, str]] = []
        for word, flag in words:
            if (
                len(word) == 4
                and flag in SPLIT_COMPOUND_TAGS
                and freq.get(word[:2], 0) >= COMMON_WORD_FREQ
                and freq.get(word[2:], 0) >= COMMON_WORD_FREQ
            ):
                tags = posseg.word_tag_tab
                out.extend((h, tags.get(h, flag)) for h in (word[:2], word[2:]))
            else:
                out.append((word, flag))
        return out


def initialize(tokenizer: jieba.Tokenizer) -> None:
    """`tokenizer.initialize()`; jieba's own dictionary's prefix table from the model cache."""
    if tokenizer.dictionary != jieba.DEFAULT_DICT:
        tokenizer.initialize()
        return

    def build() -> tuple[dict[str, int], int]:
        tokenizer.initialize()
        return tokenizer.FREQ, tokenizer.total

    tokenizer.FREQ, tokenizer.total = cached("jieba-prefix", [JIEBA_DICT], build)
    tokenizer.initialized = True


def write_main_dictionary(words: Iterable[str], path: Path) -> Path:
    """A jieba main dictionary holding exactly `words` (`word freq tag` lines).

    A segmentation standard is its vocabulary: PKU writes 新 世纪 and 江 泽民 where
    jieba's own dictionary has 新世纪 and 江泽民. Frequencies and tags come from jieba's
    dictionary where it knows the word; other words get frequency 1 and tag x.
    """
    default = jieba.Tokenizer()
    initialize(default)
    tags = word_tags(default)
    lines = []
    for word in sorted(set(words)):
        if word and not any(ch.isspace() for ch in word):
            lines.append(f"{word} {default.FREQ.get(word) or 1} {tags.get(word, 'x')}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The characters of the commonest words: text made of others reads as mojibake.
COMMON_CHARS = 3000


@cache
def common_chars(size: int = COMMON_CHARS) -> frozenset[str]:
    """The `size` characters found in the most entries of jieba's dictionary."""

    def build() -> frozenset[str]:
        lines = JIEBA_DICT.read_text(encoding="utf-8").splitlines()
        # One count over all the words joined: the same counts, in the same first-seen order.
        counts = Counter("".join(line.split(" ", 1)[0] for line in lines))
        return frozenset(ch for ch, _ in counts.most_common(size))

    chars: frozenset[str] = cached(f"common-chars-{size}", [JIEBA_DICT], build)
    return chars


def read_word_list(path: Path) -> frozenset[str]:
    """Whitespace-separated words; lines starting with # are comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if not line.startswith("#") for w in line.split())


def read_idf(path: Path) -> tuple[dict[str, float], float]:
    """`word idf` per line, and the median IDF (what jieba gives a word it has not seen);
    the same table and median as jieba's `IDFLoader`."""
    fields = path.read_text(encoding="utf-8").split()
    if len(fields) % 2:
        raise ValueError(f"{path}: expected `word idf` pairs")
    idf = dict(zip(fields[0::2], map(float, fields[1::2]), strict=True))
    return idf, sorted(idf.values())[len(idf) // 2]


def read_gazetteer(path: Path) -> dict[str, str]:
    """`name TYPE` per line; lines starting with # are comments."""
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, entity_type = line.split()
            names[name] = entity_type
    return names


@cache
def load_models(
    user_dict: Path = USER_DICT,
    stopwords: Path = STOPWORDS,
    places: Path = PLACES,
    surnames: Path = SURNAMES,
    gazetteer: Path = GAZETTEER,
) -> NlpModels:
    """Build the models once per process; every partition in that process reuses them."""
    jieba.setLogLevel(logging.WARNING)
    idf, median = cached("jieba-idf", [JIEBA_IDF], lambda: read_idf(JIEBA_IDF))
    return NlpModels(
        tagger=JiebaTagger(user_dict),
        idf=idf,
        default_idf=median,
        stopwords=read_word_list(stopwords),
        places=read_word_list(places),
        surnames=read_word_list(surnames),
        gazetteer=read_gazetteer(gazetteer),
        common_chars=common_chars(),
    )


def load_tagging_models() -> NlpModels:
    """`load_models`, with the tagger's dictionary read and compiled and the analysis's
    compiled kernels loaded now: for a process that tags, before its first text (and
    before the collector is told to leave it be)."""
    from flows.kernels import load_kernels

    load_kernels()
    models = load_models()
    if isinstance(models.tagger, JiebaTagger):
        models.tagger.prepare()
    return models
