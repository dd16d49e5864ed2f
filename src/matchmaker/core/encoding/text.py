"""Reading item text: normalisation, and the words of English, Japanese and Hindi text.

Every encoder reads text through here, so "ＧＰＵ" and "GPU" are one word, a Japanese sentence gives
its content words and a Hindi one its Devanagari words.

* :func:`normalise` is NFKC then lower case: full-width Latin letters and digits become ASCII,
  half-width katakana full-width. It is also the key of the embedding cache.
* :func:`lexical_words` splits normalised text into script runs: Latin runs are stemmed English words
  (stop words dropped, British spellings mapped to American), Devanagari runs Hindi words (function
  words dropped, nukta and chandrabindu folded), Japanese runs the content words (nouns, verbs,
  adjectives, in dictionary form) of SudachiPy's analysis.
* :func:`analyse_words` is the original analyser of the ``tfidf`` encoder (ASCII words only), kept
  as it was so that encoder ranks as before.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import snowballstemmer

from matchmaker.core.errors import MatchmakerError

# British and American spellings meet on one token, so "data centre" matches "data center".
SPELLING = {
    "centre": "center",
    "centres": "centers",
    "programme": "program",
    "programmes": "programs",
    "organisation": "organization",
    "organisations": "organizations",
    "optimise": "optimize",
    "optimisation": "optimization",
    "subsidised": "subsidized",
    "labour": "labor",
}
_STEMMER = snowballstemmer.stemmer("english")
_STEM_LOCK = threading.Lock()  # snowballstemmer's stemmer object keeps state between calls

# English function words: articles, pronouns, prepositions, conjunctions, auxiliaries and the most
# common adverbs. They say nothing about what an item offers or needs. Written for this project.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above across after again against all almost alone along already also although always am among
    an and another any anyone anything anywhere are around as at be became because become becomes been
    before being below beside besides between both but by can cannot could did do does doing done down
    during each either else elsewhere enough etc even ever every everyone everything everywhere few for
    from further had has have having he her here hers herself him himself his how however i if in into is
    it its itself just least less many may me might more most mostly much must my myself neither never
    nevertheless no nobody none nor not nothing now of off often on once one only onto or other others
    otherwise our ours ourselves out over own per perhaps please quite rather same several she should
    since so some someone something sometimes somewhere still such than that the their theirs them
    themselves then there therefore these they this those though through throughout thus to together too
    toward towards under until up upon us very via was we well were what whatever when whenever where
    whereas whether which while who whoever whole whom whose why will with within without would yet you
    your yours yourself yourselves
    """.split()  # noqa: SIM905 - a list literal of 200 quoted words reads worse
)
# Function words of Hindi as attendees write it: postpositions, auxiliaries, pronouns, light verbs.
HINDI_STOP_WORDS = frozenset(
    """
    के का की को में से पर और या है हैं था थे हो होने होना एक यह वह ये वे हम हमें हमारे हमारी हमारा आप
    अपने अपना अपनी लिए तक भी ही जो कि जैसे ताकि चाहिए करना करने करते करें कर वाला वाली वाले रहे रहा रही
    देना देनी देने दे सकें सके उपलब्ध साथ बहुत किसी कोई हुए हुआ हुई बना बनाने
    """.split()  # noqa: SIM905
)
# Nukta and chandrabindu vary between writers: folded so both spellings meet.
_HINDI_FOLD = str.maketrans({"\u093c": None, "\u0901": "\u0902"})
_JAPANESE_LIGHT = frozenset(
    ["する", "ある", "いる", "なる", "できる", "れる", "られる", "こと", "もの", "ため", "よう"]
)
_SCRIPT_RUNS = re.compile(
    r"(?P<latin>[a-z0-9]+)"
    r"|(?P<deva>[\u0900-\u0963\u0966-\u097f]+)"  # Devanagari without the dandas
    r"|(?P<ja>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f々〆ヵヶ]+)"
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """NFKC and lower case: the form every encoder reads, and the embedding cache's key.

    >>> normalise("ＧＰＵ Cloud")
    'gpu cloud'
    """
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The English stem of a lower-case word, after mapping British spellings to American.

    >>> stem("centres"), stem("curated")
    ('center', 'curat')
    """
    with _STEM_LOCK:
        return str(_STEMMER.stemWord(SPELLING.get(word, word)))


def _english(run: str, stop_words: frozenset[str]) -> list[str]:
    return [stem(w) for w in _ASCII_WORD.findall(run) if len(w) > 1 and w not in stop_words]


def _hindi(run: str) -> list[str]:
    word = run.translate(_HINDI_FOLD)
    return [] if word in HINDI_STOP_WORDS or len(word) < 2 else [word]


class _Japanese:
    """SudachiPy's content words (mode C), created on first use: most text has no Japanese."""

    def __init__(self) -> None:
        self._tokeniser: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        try:
            from sudachipy import Dictionary, SplitMode
        except ImportError as err:  # a declared dependency; missing only in a broken install
            raise MatchmakerError(
                "reading Japanese text needs the packages sudachipy and sudachidict-core "
                "(pip install sudachipy sudachidict-core)"
            ) from err
        return Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    def __call__(self, run: str) -> list[str]:
        with self._lock:  # a Sudachi tokeniser is not safe to share between threads
            if self._tokeniser is None:
                self._tokeniser = self._load()
            morphemes = [(m.part_of_speech(), m.normalized_form()) for m in self._tokeniser.tokenize(run)]
        out = [
            form
            for pos, form in morphemes
            if pos[0] in ("名詞", "動詞", "形容詞") and pos[1] not in ("数詞", "代名詞") and pos[2] != "助数詞"
        ]
        return [
            w for w in out if (w not in _JAPANESE_LIGHT and len(w) > 1) or (len(w) == 1 and "\u4e00" <= w <= "\u9fff")
        ]


_JAPANESE = _Japanese()


def lexical_words(text: str) -> list[str]:
    """The words of ``text`` the lexical encoder counts: English stems, Hindi words, Japanese content words.

    >>> lexical_words("ＧＰＵ capacity in Indian data centres")
    ['gpu', 'capac', 'indian', 'data', 'center']
    >>> lexical_words("सब्सिडी वाली GPU")
    ['सब्सिडी', 'gpu']
    """
    return list(_lexical_words(text))


@lru_cache(maxsize=65_536)
def _lexical_words(text: str) -> tuple[str, ...]:
    # Refits and explanations read the same texts again: each is analysed once per process.
    out: list[str] = []
    for m in _SCRIPT_RUNS.finditer(normalise(text)):
        if m.group("latin"):
            out += _english(m.group("latin"), ENGLISH_STOP_WORDS)
        elif m.group("deva"):
            out += _hindi(m.group("deva"))
        else:
            out += _JAPANESE(m.group("ja"))
    return tuple(out)


def has_letters(text: str) -> bool:
    """Whether ``text`` has a letter of any script: a text of punctuation, digits or symbols says nothing.

    >>> has_letters("!!! 2024 ..."), has_letters("GPU計算資源"), has_letters("डेटा")
    (False, True, True)
    """
    return any(unicodedata.category(c).startswith("L") for c in text)


def readable(text: str) -> bool:
    """Whether ``text`` has any word :func:`lexical_words` counts.

    >>> readable("!!! ---"), readable("GPU計算資源")
    (False, True)
    """
    return bool(lexical_words(text))


@lru_cache(maxsize=1)
def _sklearn_stop_words() -> frozenset[str]:
    # The tfidf encoder's stop words are scikit-learn's, as they always were; imported only by its fit.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS

    return frozenset(SKLEARN_STOP_WORDS)


def analyse_words(text: str, stop_words: frozenset[str] | None = None) -> list[str]:
    """Lowercased, stemmed ASCII words of ``text`` (the ``tfidf`` encoder's analyser).

    ``stop_words`` defaults to scikit-learn's English list, which that encoder always used.

    >>> analyse_words("Curated manufacturing datasets and data-centre partners")
    ['curat', 'manufactur', 'dataset', 'data', 'center', 'partner']
    """
    words = stop_words if stop_words is not None else _sklearn_stop_words()
    return _english(text.lower(), words)


def item_text(description: str, tags: Iterable[str]) -> str:
    """What a word model reads of an item: its description and the words of its tags.

    >>> item_text("GPU hours", ("gpu-cloud",))
    'GPU hours gpu cloud'
    """
    return " ".join((description, *(tag.replace("-", " ") for tag in tags)))


Analyser = Callable[[str], list[str]]
