"""The ``crmsphere.social_tokenizer.v1`` tokenizer: spaCy's English rules, social tokens taken whole.

Almost every post carries something the tokenizer has never seen: a link, an @handle,
an address, a new name. spaCy's rule-based tokenizer runs its prefix, suffix and infix
searches on each such chunk before its URL test keeps it whole, and the suffix search
alone (a large pattern tried at every position of a 30-character link) costs more than
the rest of the post. This tokenizer is spaCy's default English one with a ``token_match`` that takes
those chunks whole at once.

The pattern accepts only chunks that spaCy's default rules keep as one token anyway, so
the tokens are the same (checked chunk by chunk against the default tokenizer in
``tests/nlp/test_tokenizer.py``):
- links (``http(s)://``, ``www.``) and addresses that spaCy's own URL pattern accepts;
- @handles of letters, digits and ``_``, with ``.`` or ``@`` parts in lower case
  (``@name@server``, ``@name.bsky.social``);
- and all of them only when they end in a digit, ``/`` or letters that follow no digit,
  where no suffix rule applies ("…/5km" and "…'s" go the usual way);
- words of ASCII letters only, and numbers of digits only, new to the tokenizer's cache
  (a word that is a special case, "gonna", "cannot", is still split by it: spaCy looks
  special cases up before it tries ``token_match``).

Everything else, and a trained pipeline's own tokenizer, is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import spacy
from spacy.lang.tokenizer_exceptions import URL_PATTERN
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

# spaCy's tokenizer cache never evicts; a larger one keeps common social tokens cached.
CACHE_SIZE = 200_000

_URL_TEST = URL_PATTERN.removeprefix("^").removesuffix("$")
# The common link, which spaCy's URL pattern accepts (a scheme or "www.", host labels, a
# lower-case TLD, a port, a path), told by a much smaller pattern; anything else gets the
# full test.
_COMMON_URL = (r"(?:https?://|www\.)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[a-z]{2,63}"
               r"(?::[0-9]{2,5})?(?:[/?#][A-Za-z0-9_.~:/?#@$&*+,;=%-]*)?")
# A compiled pattern's ``match`` (not a Python function), so the tokenizer still serialises.
SOCIAL_TOKEN = re.compile(
    # Plain words and numbers (ASCII): no affix or infix rule applies inside them.
    r"[A-Za-z]+\Z|[0-9]+\Z"
    # Links and addresses: cheap shape first, then the common link or spaCy's own URL test.
    r"|(?:(?=https?://|www\.|[A-Za-z0-9_][A-Za-z0-9_.+-]*@)"
    r"(?:(?=(?:" + _COMMON_URL + r")\Z)|(?=(?:" + _URL_TEST + r")\Z))"
    r"(?:(?:https?://|www\.)[A-Za-z0-9_.~:/?#@$&*+,;=%-]*"
    r"|[A-Za-z0-9_][A-Za-z0-9_.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    # Handles.
    r"|@[A-Za-z0-9_]+(?:[.@][a-z0-9_]+)*)"
    # An ending no suffix rule splits off.
    r"(?:[0-9/]|(?<![0-9A-Za-z])[A-Za-z]+)\Z")


@spacy.registry.tokenizers("crmsphere.social_tokenizer.v1")
def create_social_tokenizer(max_cache_size: int = CACHE_SIZE) -> Callable[[Language], Tokenizer]:
    """spaCy's default tokenizer for the language, taking links and handles whole."""

    def make(nlp: Language) -> Tokenizer:
        # Built as spaCy's ``spacy.Tokenizer.v1`` builds it, with ``token_match`` passed in:
        # setting it afterwards reloads all ~1,300 special cases (a third of a small
        # pipeline's build).
        defaults = nlp.Defaults
        return Tokenizer(
            nlp.vocab, rules=defaults.tokenizer_exceptions,
            prefix_search=compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
            suffix_search=compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
            infix_finditer=compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
            token_match=SOCIAL_TOKEN.match, url_match=defaults.url_match,
            max_cache_size=max_cache_size)

    return make


def blank(lang: str = "en") -> Language:
    """``spacy.blank(lang)`` with the social tokenizer."""
    return spacy.blank(lang, config={"nlp": {"tokenizer": {"@tokenizers": "crmsphere.social_tokenizer.v1"}}})
