"""Stop words: words too common to say what a page is about, left out of one of its counts.

English: the Snowball stop list (snowballstem.org, BSD-3-Clause). Snowball's list is the one
NLTK's English stop words grew from; NLTK adds the four whole words at the end (can, will,
just, now), which are common enough on web pages to drown a count. Apostrophes are plain ASCII
here, as the word splitter normalizes them.

Korean: the Korean list of stopwords-iso (github.com/stopwords-iso, MIT), from the pinned
PyPI package `stopwordsiso`. A Korean word carries its particle (그것은, 우리가), so a word is
also a stop word when it is one once a common particle is taken off its end.
"""

from functools import cache

LIST = """
    i me my myself we our ours ourselves you your yours yourself yourselves
    he him his himself she her hers herself it its itself they them their theirs themselves
    what which who whom this that these those
    am is are was were be been being have has had having do does did doing
    would should could ought
    i'm you're he's she's it's we're they're i've you've we've they've
    i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll they'll
    isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't
    won't wouldn't shan't shouldn't can't cannot couldn't mustn't
    let's that's who's what's here's there's when's where's why's how's
    a an the and but if or because as until while
    of at by for with about against between into through during before after
    above below to from up down in out on off over under
    again further then once here there when where why how
    all any both each few more most other some such
    no nor not only own same so than too very
    can will just now
"""

ENGLISH = frozenset(LIST.split())

# Particles that end a Korean word (eojeol); tried longest first (에서는 before 는).
PARTICLE_LIST = """
    은 는 이 가 을 를 에 의 도 로 으로 와 과 에서 에게 께서 한테 까지 부터 만 보다 처럼
    이나 나 이랑 랑 하고 이라도 라도 마다 조차 밖에 에는 에서는 으로는 로는 이다 입니다 예요 이에요
"""
PARTICLES = sorted(PARTICLE_LIST.split(), key=len, reverse=True)


@cache
def korean():
    """Return the Korean stop words, single words only (read on first use)."""
    import stopwordsiso  # at first use: 2 MB a web worker that counts no words never needs

    return frozenset(word for word in stopwordsiso.stopwords("ko") if word.isalpha())


def is_stop_word(word):
    """Return whether `word` (case-folded) is a stop word, with or without a Korean particle."""
    if word in ENGLISH or word in korean():
        return True
    return any(
        word.endswith(particle) and word[: -len(particle)] in korean()
        for particle in PARTICLES
        if len(word) > len(particle)
    )
