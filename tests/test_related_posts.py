"""related_posts plugin: "Các bài viết khác" chosen from the Vietnamese text.

Pure scoring functions first (tokeniser, top-k, scores), then the labelled test set
(tests/data/related/<topic>/*.md: 30 untagged articles of one category on 5 topics), then small
sites built with Pelican: override, exclusions, fallback, determinism, cache, plugin loading.
"""

import os
import pickle
import random
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from plugins.related_posts import related_posts as plugin
from plugins.related_posts import scoring, terms
from plugins.related_posts.scoring import (
    STOPWORDS,
    Params,
    Record,
    VectorCache,
    plain_text,
    related_articles,
    syllables,
    term_counts,
)
from plugins.vn_text import VIETNAM_TZ, nfc, slugify
from tests.conftest import DATA, build_site, file_digests, make_content

LABELLED = DATA / "related"
NOW = datetime(2025, 6, 1, tzinfo=VIETNAM_TZ)
CATEGORY = "Tin tức - Sự kiện"


def when(day, month=1, year=2024):
    return datetime(year, month, day, 8, 0, tzinfo=VIETNAM_TZ)


def record(slug, text, day=1, category=CATEGORY, **fields):
    return Record(slug=slug, date=when(day), category=category, text=text, **fields)


def slugs_of(records, lists):
    return {records[i].slug: [records[j].slug for j in chosen] for i, chosen in enumerate(lists)}


# --- Text → terms ------------------------------------------------------------------------


def test_diacritics_are_kept_so_dang_words_stay_apart():
    # "đang" (-ing) is a stopword; "đảng" (Party) and "dạng" (form) are different terms.
    assert syllables("Đảng đang dạng") == ["đảng", None, "dạng"]
    counts = term_counts("đảng viên, dạng viên")
    assert counts["đảng viên"] == 1 and counts["dạng viên"] == 1


def test_decomposed_input_gives_the_same_terms():
    composed = "Hội nghị đảng viên Quý I"
    decomposed = "".join(__import__("unicodedata").normalize("NFD", composed))
    assert decomposed != composed
    assert term_counts(decomposed) == term_counts(composed)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hội nghị giao ban", {"hội", "nghị", "giao", "ban", "hội nghị", "nghị giao", "giao ban"}),
        # Punctuation and stopwords break a run: no "nghị chi", no "của chi".
        ("Hội nghị. Chi bộ", {"hội", "nghị", "hội nghị", "chi", "bộ", "chi bộ"}),
        ("công tác của chi bộ", {"công", "tác", "công tác", "chi", "bộ", "chi bộ"}),
        # Digits are syllables; "_" is skipped like a space.
        ("COVID-19 năm_2023", {"covid", "19", "năm", "2023", "19 năm", "năm 2023"}),
        ("", set()),
    ],
)
def test_terms_are_syllables_and_neighbouring_pairs(text, expected):
    assert set(term_counts(text)) == expected


def test_stopwords_are_lower_case_nfc_syllables_and_not_topic_words():
    for word in STOPWORDS:
        assert word == nfc(word).lower() and syllables(word) == [None]
    for topic_word in ("đảng", "năm", "huyện", "dân", "quân", "học"):
        assert topic_word not in STOPWORDS


def test_plain_text_of_html():
    text = plain_text("<p>Đảng&nbsp;viên <em>mới</em></p><p>Chi bộ</p>")
    assert [s for s in syllables(text) if s] == ["đảng", "viên", "mới", "chi", "bộ"]
    # An entity is a space; an element boundary is a break.
    assert "đảng viên" in term_counts(text) and "bộ mới" not in term_counts(text)
    assert "mới chi" not in term_counts(text)


ODD_TEXTS = [
    "Đảng viên, hội nghị: đảng viên mới! Đang dạng_x 2023 COVID-19 (xã Toàn Thắng) đảng",
    "",
    "a",
    "Ủy ban nhân dân huyện… “Gia Lộc” 😀 x😀y — 5.000 ha; 67 tạ/ha",
    "ÀÁẢÃẠ ĂẮẰẲẴẶ ÂẤẦẨẪẬ ĐĐđ ƠỚỜỞỠỢ ƯỨỪỬỮỰ İstanbul ß ﬁ ²³ ٣ 中文 \t\n x\x00y",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 aa ab ba",
]


def labelled_texts():
    return [path.read_text(encoding="utf-8") for path in sorted(LABELLED.glob("*/*.md"))]


def cached_counts(cache, texts):
    _, vectors = cache.counts_for(texts)
    return [
        {cache.term_text(t): int(c) for t, c in zip(terms.tolist(), counts.tolist(), strict=True)}
        for terms, counts in vectors
    ]


@pytest.mark.parametrize("texts", [ODD_TEXTS, labelled_texts(), ["ΟΔΟΣ ΣΑΣ Đảng ĐẢNG"]])
def test_fast_tokeniser_counts_the_same_terms_as_the_reference(texts):
    cache = VectorCache()
    assert cached_counts(cache, texts) == [term_counts(text) for text in texts]


def test_many_batches_tokenised_ahead_in_a_thread_count_the_same_terms():
    texts = labelled_texts() + ODD_TEXTS
    many = VectorCache()
    _, vectors = many.counts_for(texts, chunk_chars=500)  # dozens of batches, in a thread
    assert many.added == len(set(texts))
    batched = [
        {many.term_text(t): int(c) for t, c in zip(terms.tolist(), counts.tolist(), strict=True)}
        for terms, counts in vectors
    ]
    assert batched == cached_counts(VectorCache(), texts) == [term_counts(t) for t in texts]


def test_lower_case_by_table_unless_a_character_needs_str_lower():
    def codes(text):
        return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)

    lowered = terms._lower_codes(codes("ĐẢNG Viên Ưu Tú"))
    assert lowered.tobytes().decode("utf-32-le") == "đảng viên ưu tú"
    assert terms._lower_codes(codes("İstanbul")) is None  # İ → i + combining dot
    assert terms._lower_codes(codes("ΟΔΟΣ")) is None  # final sigma depends on context


def test_fast_tokeniser_agrees_on_every_character_class():
    # Every BMP character class the tokeniser tables know: letters, digits, marks, spaces…
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x20, 0x3000) if not 0xD800 <= c < 0xE000]
    texts = ["".join(rng.choice(alphabet) for _ in range(400)) for _ in range(20)]
    texts = [nfc(text) for text in texts]
    assert cached_counts(VectorCache(), texts) == [term_counts(text) for text in texts]


def test_cache_round_trip_keeps_counts_and_drops_unused_texts(tmp_path):
    path = tmp_path / "vectors.npz"
    cache = VectorCache()
    first = cached_counts(cache, ODD_TEXTS)
    # A key that ends in NUL bytes must survive the file.
    cache.docs[b"\x01" * 8 + b"\x00" * 8] = cache.docs[terms.text_key(ODD_TEXTS[0])]
    cache.save(path)
    loaded = VectorCache.load(path)
    assert b"\x01" * 8 + b"\x00" * 8 in loaded.docs
    assert cached_counts(loaded, ODD_TEXTS) == first
    assert loaded.added == 0
    loaded.save(path, keep=loaded.used)
    again = VectorCache.load(path)
    assert len(again.docs) == len(set(ODD_TEXTS))
    assert cached_counts(again, ODD_TEXTS[:2] + ["văn bản mới"]) == [
        term_counts(t) for t in ODD_TEXTS[:2] + ["văn bản mới"]
    ]


@pytest.mark.parametrize("content", [b"", b"not a zip file", None])
def test_unreadable_or_old_cache_is_ignored(tmp_path, content):
    path = tmp_path / "vectors.npz"
    if content is None:
        cache = VectorCache()
        cache.counts_for(["đảng viên"])
        cache.save(path)
        np.savez(path, version=np.array("0/old"))
    else:
        path.write_bytes(content)
    assert VectorCache.load(path).docs == {}
    assert VectorCache.load(tmp_path / "missing.npz").docs == {}


# --- Scores ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "k, longest, levels, cells",
    [
        (5, 60, 8, 500),  # many ties, several blocks
        (5, 60, 10**9, 500),  # distinct values
        (21, 2000, 10**9, 4_000_000),  # the candidate search's shape: rows of hundreds
        (21, 2000, 3, 4_000_000),  # rows of hundreds, nearly all tied
        (40, 41, 10**9, 4_000_000),  # rows just longer than k
        (3, 3, 8, 500),  # no row longer than k
    ],
)
def test_top_k_per_row_matches_a_plain_sort(k, longest, levels, cells):
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, longest + 1, 200)
    lengths[:5] = [0, 1, k, k + 1, longest]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.integers(0, levels, starts[-1]).astype(float)
    values[-(starts[-1] // 3) :] *= 0.001  # rows of small values, sorted rows too
    values[starts[4] : starts[5]].sort()
    tiebreak = rng.permutation(starts[-1])
    chosen = scoring._top_k_per_row(starts, values, lambda idx: tiebreak[idx], k, cells=cells)
    chosen = set(chosen.tolist())
    for row in range(len(lengths)):
        entries = range(starts[row], starts[row + 1])
        expected = sorted(entries, key=lambda e: (-values[e], tiebreak[e]))[:k]
        assert {e for e in entries if e in chosen} == set(expected)


def topic_record(slug, topic_words, day, **fields):
    filler = "huyện Gia Lộc tổ chức hội nghị triển khai kết quả công tác năm"
    return record(slug, f"{topic_words} {filler} {topic_words}", day, **fields)


TOPICS = {
    "dang": "kết nạp đảng viên mới chi bộ quần chúng ưu tú",
    "lua": "thu hoạch lúa vụ xuân năng suất nông dân gieo cấy",
    "quan": "giao nhận quân tân binh nghĩa vụ quân sự nhập ngũ",
}


def small_site_records():
    records = []
    for t, (name, words) in enumerate(TOPICS.items()):
        for k in range(3):
            records.append(topic_record(f"{name}-{k}", words, day=1 + 3 * t + k))
    return records


def test_related_are_the_same_topic_never_itself():
    records = small_site_records()
    lists, warnings = related_articles(records, NOW, Params(max_related=2))
    assert warnings == []
    for slug, related in slugs_of(records, lists).items():
        assert len(related) == 2
        assert slug not in related
        assert all(other.split("-")[0] == slug.split("-")[0] for other in related)


def test_result_does_not_depend_on_input_order_or_cache():
    records = small_site_records() + [record("extra", "giao nhận quân lúa", 20)]
    expected = slugs_of(records, related_articles(records, NOW)[0])
    for seed in range(3):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        cache = VectorCache()
        cache.counts_for([r.text for r in reversed(shuffled)] + ["chữ khác hẳn"])
        assert slugs_of(shuffled, related_articles(shuffled, NOW, cache=cache)[0]) == expected


def test_candidate_blocks_on_several_threads_give_the_lists_of_one_block(monkeypatch):
    records = [record(f"bai-{i:02d}", text, day=1 + i % 28)
               for i, text in enumerate(labelled_texts())]  # fmt: skip
    expected = related_articles(records, NOW, Params(block_rows=512))[0]  # one block
    pools = []

    class Pool(scoring.ThreadPoolExecutor):
        def __init__(self, max_workers):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(scoring, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(scoring.os, "cpu_count", lambda: 4)
    assert related_articles(records, NOW, Params(block_rows=3))[0] == expected  # 10 blocks
    assert pools == [4]


def test_ties_are_broken_by_date_then_slug():
    text = "kết nạp đảng viên mới chi bộ"
    records = [
        record("b", text, day=2),
        record("a", text, day=2),
        record("c", text, day=9),
        record("q", text, day=5),
    ]
    lists, _ = related_articles(records, NOW, Params(date_weight=0.0))
    assert slugs_of(records, lists)["q"] == ["c", "a", "b"]


def test_shared_tags_and_category_lift_an_article():
    base = "giao nhận quân tân binh nhập ngũ"
    records = [record(f"other-{i}", f"{words} {i}", 5) for i, words in enumerate(TOPICS.values())]
    records += [
        record("x", base, 5),
        record("tagged", base, 5, tags=("giao quân",)),
        record("plain", base, 5),
        record("same-category", base, 5, category="Quốc phòng - An ninh"),
        record("y", base, 5, category="Quốc phòng - An ninh", tags=("giao quân",)),
    ]
    # Same text everywhere: keep every term (max_df 1), so only tags and category differ.
    related = slugs_of(records, related_articles(records, NOW, Params(max_df=1.0))[0])
    assert related["y"][:2] == ["tagged", "same-category"]


def test_related_line_comes_first_and_unknown_slugs_are_reported():
    records = small_site_records()
    records[0] = topic_record(
        "dang-0", TOPICS["dang"], 1, related=("quan-2", "nowhere", "dang-0"), source="a.md"
    )
    lists, warnings = related_articles(records, NOW, Params(max_related=3))
    # Then the computed ones: dang-1 and dang-2 have the same text, dang-1 is closer in time.
    assert slugs_of(records, lists)["dang-0"][:3] == ["quan-2", "dang-1", "dang-2"]
    assert warnings == [
        "a.md: không tìm thấy bài viết 'nowhere' ở dòng Related "
        "(related article not found or not published)"
    ]


def test_drafts_hidden_and_future_articles_are_never_listed():
    records = small_site_records()
    records += [
        topic_record("draft", TOPICS["dang"], 4, published=False),
        Record("future", NOW + timedelta(days=1), CATEGORY, text=records[0].text),
    ]
    lists, _ = related_articles(records, NOW)
    related = slugs_of(records, lists)
    for others in related.values():
        assert "draft" not in others and "future" not in others
    # They still get a list of their own.
    assert related["draft"][0].startswith("dang-")
    assert related["future"][0].startswith("dang-")


@pytest.mark.parametrize("texts", [[], [""], ["", "", ""], ["a", ""], ["đảng viên"]])
def test_tiny_or_empty_inputs(texts):
    records = [record(f"s{i}", text, day=i + 1) for i, text in enumerate(texts)]
    lists, warnings = related_articles(records, NOW)
    assert warnings == []
    # Nothing related: each gets the others of its category, newest first.
    assert lists == [[j for j in reversed(range(len(texts))) if j != i] for i in range(len(texts))]


def test_fallback_is_the_latest_of_the_same_category():
    records = [
        record("odd", "một bài viết về chuyện hoàn toàn khác", 30, category="A"),
        record("a1", "kết nạp đảng viên mới", 10, category="A"),
        record("a2", "thu hoạch lúa vụ xuân", 12, category="A"),
        record("a3", "giao nhận quân tân binh", 12, category="A"),
        record("b1", "tiêm chủng vắc xin", 20, category="B"),
    ]
    lists, _ = related_articles(records, NOW, Params(max_related=2))
    assert slugs_of(records, lists)["odd"] == ["a2", "a3"]
    assert slugs_of(records, lists)["b1"] == []


# --- The labelled test set: precision@3 ---------------------------------------------------------


def read_labelled():
    """Records of tests/data/related/<topic>/<slug>.md, as the plugin would see them."""
    records, topics = [], []
    for path in sorted(LABELLED.glob("*/*.md")):
        head, body = path.read_text(encoding="utf-8").split("\n\n", 1)
        meta = dict(line.split(": ", 1) for line in head.splitlines())
        title = meta["Title"]
        records.append(
            Record(
                slug=path.stem,
                date=datetime.strptime(meta["Date"], "%Y-%m-%d %H:%M").replace(tzinfo=VIETNAM_TZ),
                category=meta["Category"],
                text=f"{title} . {title} . {body}",
            )
        )
        topics.append(path.parent.name)
    return records, topics


def precision_at_3(lists, topics):
    """Mean share of the first three related articles that are on the article's topic
    (a list shorter than three counts the missing places as wrong)."""
    return sum(
        sum(topics[j] == topics[i] for j in chosen[:3]) / 3 for i, chosen in enumerate(lists)
    ) / len(lists)


def test_labelled_set_is_untagged_one_category_and_several_topics():
    records, topics = read_labelled()
    assert len(records) >= 24
    assert len(set(topics)) >= 4
    assert {r.category for r in records} == {CATEGORY}
    assert all(not r.tags for r in records)
    for path in LABELLED.glob("*/*.md"):
        assert "Tags:" not in path.read_text(encoding="utf-8")
        assert path.stem == slugify(path.read_text(encoding="utf-8").split("\n")[0][7:])


def test_labelled_set_precision_at_3():
    records, topics = read_labelled()
    lists, _ = related_articles(records, NOW)
    precision = precision_at_3(lists, topics)
    print(f"precision@3 on the labelled set: {precision:.3f}")
    assert precision >= 0.9


def labelled_content(tmp_path):
    return make_content(tmp_path, {
        f"{path.parent.name}/{path.name}": path.read_text(encoding="utf-8")
        for path in LABELLED.glob("*/*.md")
    })  # fmt: skip


@pytest.fixture(scope="module")
def labelled_site(tmp_path_factory):
    """The labelled set built as a site with our settings (warm cache on a second build)."""
    folder = tmp_path_factory.mktemp("labelled")
    content = labelled_content(folder)
    cold = build_site(folder / "cold", content=content, CACHE_PATH=str(folder / "cache"))
    warm = build_site(folder / "warm", content=content, CACHE_PATH=str(folder / "cache"))
    return cold, warm


def article_pages(site):
    return sorted(p.relative_to(site.output) for p in site.output.glob("20[0-9][0-9]/*/*.html"))


def test_labelled_site_pages_show_the_related_articles(labelled_site):
    site, _ = labelled_site
    topic_of = {path.stem: path.parent.name for path in LABELLED.glob("*/*.md")}
    lists, topics = [], []
    pages = article_pages(site)
    assert len(pages) == len(topic_of)
    slugs = [page.stem for page in pages]
    for page in pages:
        soup = site.soup(page)
        assert soup.select_one("section.related h2").get_text() == "Các bài viết khác"
        hrefs = [a["href"] for a in soup.select("section.related ul a")]
        assert 1 <= len(hrefs) <= 5
        lists.append([slugs.index(Path(href).stem) for href in hrefs])
        topics.append(topic_of[page.stem])
    assert precision_at_3(lists, topics) >= 0.9
    assert not site.log.messages()


def test_cold_and_warm_cache_builds_are_byte_identical(labelled_site):
    cold, warm = labelled_site
    assert (warm.output.parent / "cache" / plugin.CACHE_FILE).is_file()
    for page in article_pages(cold):
        assert cold.path(page).read_bytes() == warm.path(page).read_bytes(), page


class FakeArticle:
    """What set_related_posts reads of an article."""

    def __init__(self, number, text):
        self.slug = f"bai-{number:02d}"
        self.title = f"Bài {number}"
        self._content = f"<p>{text}</p>"
        self.date = datetime(2024, 1, 1 + number % 28, 8, 0, tzinfo=VIETNAM_TZ)
        self.category = CATEGORY
        self.tags = []
        self.metadata = {}
        self.source_path = f"/content/{self.slug}.md"

    def get_relative_source_path(self):
        return f"{self.slug}.md"


class FakeGenerator:
    def __init__(self, items, cache):
        self.articles, self.drafts, self.hidden_articles = items, [], []
        self.settings = {"CACHE_PATH": str(cache)}


def related_lists(items, cache):
    plugin.set_related_posts(FakeGenerator(items, cache))
    return [[other.slug for other in item.related_posts] for item in items]


def test_remembered_text_keys_give_the_lists_of_a_cold_build(tmp_path):
    """After an edit, unchanged articles are found in the cache by their remembered text
    key (their text is not extracted); the lists equal those computed with no cache."""
    texts = labelled_texts()
    items = [FakeArticle(n, text) for n, text in enumerate(texts)]
    related_lists(items, tmp_path / "cache")  # fills the caches
    assert (tmp_path / "cache" / plugin.TEXT_KEYS_FILE).is_file()
    edited = [FakeArticle(n, text) for n, text in enumerate(texts)]
    edited[3]._content = edited[17]._content  # article 3 now tells article 17's story
    extracted = []
    original = plugin.article_record

    def record(row, date, published, text, known_key=None):
        if known_key is None:
            extracted.append(row.slug)
        return original(row, date, published, text, known_key)

    plugin.article_record = record
    try:
        warm = related_lists(edited, tmp_path / "cache")
    finally:
        plugin.article_record = original
    assert extracted == ["bai-03"]
    fresh = [FakeArticle(n, text) for n, text in enumerate(texts)]
    fresh[3]._content = fresh[17]._content
    cold = related_lists(fresh, tmp_path / "fresh")
    assert warm == cold
    assert "bai-17" in warm[3][:1]


@pytest.mark.parametrize(
    "exists, docs, used, added, expected",
    [
        (False, 0, 0, 0, True),  # first build
        (True, 10_000, 10_000, 0, False),  # nothing new, nothing gone
        (True, 10_001, 10_000, 1, False),  # one edit: tokenised again next time, not rewritten
        (True, 10_064, 10_000, 64, False),  # below 1 % of 10,000
        (True, 10_100, 10_000, 100, True),  # 1 %
        (True, 100, 36, 0, True),  # 64 texts gone
        (True, 70, 70, 64, True),  # small site: 64 new texts
    ],
)
def test_vector_cache_is_rewritten_only_when_enough_changed(exists, docs, used, added, expected):
    cache = VectorCache()
    cache.docs = {i.to_bytes(4, "big"): None for i in range(docs)}
    cache.used = set(list(cache.docs)[docs - used :])
    cache.added, cache.changed = added, added > 0
    assert plugin.must_save(cache, exists) is expected


def test_lists_remembered_by_other_code_are_computed_again(tmp_path, monkeypatch):
    """The remembered lists are reused only while the inputs and the code are the same: a
    new version of the project (the scoring, numpy, scipy…) computes them again."""
    items = [FakeArticle(n, text) for n, text in enumerate(labelled_texts())]
    computed = []
    original = scoring.related_articles
    monkeypatch.setattr(scoring, "related_articles",
                        lambda *a, **k: computed.append(1) or original(*a, **k))  # fmt: skip
    first = related_lists(items, tmp_path / "cache")
    again = related_lists(items, tmp_path / "cache")
    assert (len(computed), again) == (1, first)  # same inputs, same code: remembered
    monkeypatch.setattr(plugin, "code_key", lambda: "the code of a newer version")
    assert related_lists(items, tmp_path / "cache") == first
    assert len(computed) == 2


@pytest.mark.parametrize("background", [False, True])
def test_lists_computed_after_a_text_edit_are_remembered_for_the_next_build(
    tmp_path, monkeypatch, background
):
    """Lists computed after a text edit, in the build or in a process of their own, are
    saved under their key, so the build after reuses them; a change of anything else than
    the texts (a tag) computes them again. In a process of their own, the process also
    decides whether the last lists hold (``lists_for``): the build forks each time."""
    computed = tmp_path / "computed"  # one line per computation, from either process
    started = []
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    monkeypatch.setattr(plugin, "BackgroundLists", counting(plugin.BackgroundLists, started))
    original = plugin.compute_lists

    def compute_lists(*args):
        with open(computed, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return original(*args)

    monkeypatch.setattr(plugin, "compute_lists", compute_lists)

    def runs():
        lines = computed.read_text(encoding="utf-8").split() if computed.exists() else []
        assert (str(os.getpid()) in lines) is not background  # where they were computed
        return len(lines)

    def build(items):
        generator = FakeGenerator(items, tmp_path / "cache")
        generator.settings["INCREMENTAL_WORKERS"] = 2 if background else 1
        plugin.set_related_posts(generator)
        return [[other.slug for other in item.related_posts] for item in items]

    texts = labelled_texts()
    build([FakeArticle(n, text) for n, text in enumerate(texts)])
    assert runs() == 1
    edited = [FakeArticle(n, text) for n, text in enumerate(texts)]
    edited[3]._content = edited[17]._content
    lists = build(edited)
    assert runs() == 2
    again = [FakeArticle(n, text) for n, text in enumerate(texts)]
    again[3]._content = again[17]._content
    assert build(again) == lists and runs() == 2  # remembered
    again[5].tags = ["Nông thôn mới"]
    build(again)
    assert runs() == 3
    assert len(started) == (4 if background else 0)


def test_text_keys_version_is_the_same_in_every_process():
    import subprocess

    from tests.conftest import ROOT

    script = "from plugins.related_posts.related_posts import text_keys_version as v; print(v())"
    versions = {
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout.strip()
        for _ in range(2)
    }  # fmt: skip
    assert versions == {plugin.text_keys_version()}


# --- Small sites built with Pelican ----------------------------------------------------------


def markdown(title, day, body, *extra):
    lines = [f"Title: {title}", f"Date: {day}", f"Category: {CATEGORY}", *extra, "", body, ""]
    return "\n".join(lines)


def related_hrefs(site, page):
    return [Path(a["href"]).stem for a in site.soup(page).select("section.related ul a")]


@pytest.fixture(params=[False, True], ids=["inline", "background"])
def background(request, monkeypatch):
    """Whether the lists of a small site are computed in a forked process, as at archive
    scale (``BACKGROUND_MINIMUM``); yields the build settings that go with it. Pelican logs
    a warning once per process (LimitFilter): each variant starts with none logged."""
    from pelican.log import LimitFilter

    monkeypatch.setattr(LimitFilter, "_raised_messages", set())
    if request.param:
        monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    return {"INCREMENTAL_WORKERS": 2}


def test_site_override_exclusions_and_warning(tmp_path, background):
    party = "Lễ kết nạp đảng viên mới cho quần chúng ưu tú của chi bộ thôn."
    future = (datetime.now(VIETNAM_TZ) + timedelta(days=30)).strftime("%Y-%m-%d 08:00")
    content = make_content(
        tmp_path,
        {
            "a.md": markdown(
                "Kết nạp đảng viên A",
                "2024-01-01 08:00",
                party,
                "Related: lua-vu-xuan, khong-co-bai-nay",
            ),
            "b.md": markdown("Kết nạp đảng viên B", "2024-01-02 08:00", party),
            "c.md": markdown("Kết nạp đảng viên C", "2024-01-03 08:00", party),
            "lua.md": markdown(
                "Lúa vụ xuân",
                "2024-01-04 08:00",
                "Nông dân thu hoạch lúa vụ xuân.",
                "Slug: lua-vu-xuan",
            ),
            "draft.md": markdown(
                "Kết nạp đảng viên nháp", "2024-01-05 08:00", party, "Status: draft"
            ),
            "hidden.md": markdown(
                "Kết nạp đảng viên ẩn", "2024-01-06 08:00", party, "Status: hidden"
            ),
            "future.md": markdown("Kết nạp đảng viên sắp đăng", future, party),
            # Other topics, so that the party words are not in most articles.
            **{
                f"other-{i}.md": markdown(f"Tin {i}", f"2023-05-0{i + 1} 08:00", words)
                for i, words in enumerate(
                    ["Tiêm chủng vắc xin sởi.", "Giao nhận quân năm nay.", "Khai giảng năm học."]
                )
            },
        },
    )
    site = build_site(tmp_path / "out", content=content, **background)
    a = related_hrefs(site, "2024/01/ket-nap-dang-vien-a.html")
    # The Related: line first, then the same text, the closest date first.
    assert a == ["lua-vu-xuan", "ket-nap-dang-vien-b", "ket-nap-dang-vien-c"]
    for page in site.output.glob("20[0-9][0-9]/*/*.html"):
        hrefs = related_hrefs(site, page.relative_to(site.output))
        assert page.stem not in hrefs
        assert not {
            "ket-nap-dang-vien-nhap",
            "ket-nap-dang-vien-an",
            "ket-nap-dang-vien-sap-dang",
        } & set(hrefs)
    # The draft page is built too, with published articles under it.
    assert related_hrefs(site, "ban-nhap/ket-nap-dang-vien-nhap.html")[0].startswith("ket-nap")
    assert site.log.messages() == [
        "related_posts: articles/a.md: không tìm thấy bài viết 'khong-co-bai-nay' ở dòng "
        "Related (related article not found or not published)"
    ]


def test_background_lists_make_the_same_site(labelled_site, tmp_path, monkeypatch):
    """The labelled set again, its lists computed in a forked process while the build goes
    on: every file the same as the build that computed them in its own process, the same
    log, and no process left behind."""
    import multiprocessing

    cold, _ = labelled_site
    started = []
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    monkeypatch.setattr(plugin, "BackgroundLists", counting(plugin.BackgroundLists, started))
    content = cold.settings["PATH"]
    site = build_site(tmp_path / "out", content=content, INCREMENTAL_WORKERS=2)
    assert len(started) == 1
    assert file_digests(site.output) == file_digests(cold.output)
    assert not site.log.messages()
    assert multiprocessing.active_children() == []


def counting(cls, calls):
    class Counted(cls):
        def __init__(self, *args, **kwargs):
            calls.append(args)
            super().__init__(*args, **kwargs)

    return Counted


def test_a_background_process_that_dies_or_fails_fails_the_build(tmp_path, monkeypatch):
    """The build stops with the process's error, or a message when it died, instead of
    waiting for lists that never come; and leaves no process behind."""
    import multiprocessing

    from plugins.incremental.readers import BuildWorkerError

    content = make_content(tmp_path, {
        f"{i}.md": markdown(f"Bài số {i}", f"2024-02-{i + 1:02d} 08:00", "Xuân về.")
        for i in range(3)
    })  # fmt: skip
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)

    def fail(*args):
        raise OSError("đĩa đầy")

    monkeypatch.setattr(plugin, "compute_lists", fail)
    with pytest.raises(OSError, match="đĩa đầy"):
        build_site(tmp_path / "a", content=content, INCREMENTAL_WORKERS=2)
    monkeypatch.setattr(plugin, "compute_lists", lambda *args: os._exit(9))
    with pytest.raises(BuildWorkerError, match="tiến trình con"):
        build_site(tmp_path / "b", content=content, INCREMENTAL_WORKERS=2)
    assert multiprocessing.active_children() == []


def test_no_background_process_to_be_had_computes_the_lists_in_the_build(tmp_path, monkeypatch):
    """When the system gives no new process (memory, a process limit), the build computes
    the lists itself instead of failing."""
    content = make_content(tmp_path, {
        f"{i}.md": markdown(f"Kết nạp đảng viên {i}", f"2024-02-{i + 1:02d} 08:00",
                            "Lễ kết nạp đảng viên mới của chi bộ thôn.")
        for i in range(3)
    })  # fmt: skip
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)

    def no_process(workers):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(plugin, "start_worker_pool", no_process)
    site = build_site(tmp_path / "out", content=content, INCREMENTAL_WORKERS=2)
    assert related_hrefs(site, "2024/02/ket-nap-dang-vien-0.html") == [
        "ket-nap-dang-vien-2", "ket-nap-dang-vien-1"
    ]
    assert plugin._background is None


def test_lists_nobody_used_are_waited_for_after_the_article_pages(tmp_path, monkeypatch, caplog):
    """A theme that shows no related list never uses them: ``wait_for_lists`` (after the
    article pages) still waits, so the warnings are logged as without a background
    process, and the real lists are in place before the render workers fork."""
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    items = [FakeArticle(n, text) for n, text in enumerate(labelled_texts()[:6])]
    items[0].metadata["related"] = "khong-co-bai-nay"
    generator = FakeGenerator(items, tmp_path / "cache")
    generator.settings["INCREMENTAL_WORKERS"] = 2
    plugin.set_related_posts(generator)
    assert all(type(item.related_posts) is plugin.PendingList for item in items)
    with caplog.at_level("WARNING"):
        plugin.wait_for_lists()
    assert all(type(item.related_posts) is list for item in items)
    assert "khong-co-bai-nay" in caplog.text and plugin._background is None


def test_a_build_in_the_same_process_discards_lists_left_unused(tmp_path, monkeypatch):
    """A build that stopped before it used its lists (``make devserver`` goes on after a
    failed build): the next build in the process ends that process and computes its own."""
    import multiprocessing

    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    texts = labelled_texts()[:6]
    first = [FakeArticle(n, text) for n, text in enumerate(texts)]
    failed = FakeGenerator(first, tmp_path / "cache")
    failed.settings["INCREMENTAL_WORKERS"] = 2
    plugin.set_related_posts(failed)
    left = plugin._background
    assert left is not None
    second = [FakeArticle(n, text) for n, text in enumerate(texts)]
    generator = FakeGenerator(second, tmp_path / "cache-2")
    generator.settings["INCREMENTAL_WORKERS"] = 2
    plugin.set_related_posts(generator)
    assert plugin._background is not left
    plugin.wait_for_lists()
    assert [type(item.related_posts) for item in first] == [plugin.PendingList] * len(first)
    assert all(type(item.related_posts) is list and item.related_posts for item in second)
    assert multiprocessing.active_children() == []


# What the ListsProcess did, written by the process itself (a file: it is another process).
_ORIGINAL_COMPUTE_SENT = plugin._compute_sent
_RECORD = {"path": None}


def _recording_compute_sent(rows, texts, *args):
    with open(_RECORD["path"], "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {len(texts)}\n")
    return _ORIGINAL_COMPUTE_SENT(rows, texts, *args)


def _failing_load(settings):
    raise OSError("không đọc được bộ nhớ đệm")


def edit_first_article(content):
    path = sorted((Path(content) / "articles").rglob("*.md"))[0]
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + " Ban chấp hành đảng bộ xã đã họp phiên thường kỳ.\n", "utf-8")


@pytest.mark.parametrize("outcome", ["used", "too many texts", "failed"])
def test_lists_process_started_before_reading(tmp_path, monkeypatch, outcome):
    """From the second build on (the caches hold the last build's texts), a process is
    started before the articles are read: it is sent the articles' plain values and the one
    edited text, and computes the lists. When it would need more texts than
    SENT_TEXTS_MAXIMUM, or could not read the caches, a process forked when reading ends
    computes them as before. Either way: the pages of a cold build, no process left."""
    import multiprocessing

    processes, computed = [], tmp_path / "computed"
    _RECORD["path"] = str(computed)
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    monkeypatch.setattr(plugin, "ListsProcess", counting(plugin.ListsProcess, processes))
    monkeypatch.setattr(plugin, "_compute_sent", _recording_compute_sent)
    if outcome == "too many texts":
        monkeypatch.setattr(plugin, "SENT_TEXTS_MAXIMUM", 0)
    if outcome == "failed":
        monkeypatch.setattr(plugin, "_load", _failing_load)
    content = labelled_content(tmp_path)
    settings = {"INCREMENTAL_WORKERS": 2, "CACHE_PATH": str(tmp_path / "cache")}
    build_site(tmp_path / "out", content=content, **settings)
    assert processes == []  # no caches yet: nothing to read ahead
    edit_first_article(content)
    site = build_site(tmp_path / "out", content=content, **settings)
    assert len(processes) == 1
    lines = computed.read_text(encoding="utf-8").split("\n")[:-1] if computed.exists() else []
    if outcome == "used":
        pid, sent = lines[0].split()
        assert (len(lines), sent) == (1, "1") and int(pid) != os.getpid()
    else:
        assert lines == []
    cold = build_site(tmp_path / "cold", content=content, INCREMENTAL_WORKERS=2)
    assert file_digests(site.output) == file_digests(cold.output)
    assert not site.log.messages()
    assert multiprocessing.active_children() == []
    assert plugin._process is None and plugin._background is None


_ORIGINAL_KEYED_LISTS = plugin.keyed_lists


def _recording_keyed_lists(rows, job, text, loaded=None, guess=None):
    """``keyed_lists`` writing, per call, whether it was given a guess and took it."""
    key, outcome = _ORIGINAL_KEYED_LISTS(rows, job, text, loaded, guess)
    with open(_RECORD["path"], "a", encoding="utf-8") as handle:
        handle.write(("computed" if guess is None else f"guess {guess[0] == key}") + "\n")
    return key, outcome


def _add_article(content, name, date, status=None):
    folder = Path(content) / "articles" / "moi"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(
        f"Title: Đảng bộ xã Gia Khánh kết nạp đảng viên mới {name}\nDate: {date}\n"
        + (f"Status: {status}\n" if status else "")
        + "Category: Tin tức - Sự kiện\n\nChi bộ kết nạp đảng viên mới là đoàn viên thanh "
        "niên ưu tú, sinh hoạt chi bộ nền nếp.\n", encoding="utf-8")


def _move_first_article_back(content):
    path = sorted((Path(content) / "articles").rglob("*.md"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"Date: .*", "Date: 2001-01-01 08:00", text, count=1), "utf-8")


@pytest.mark.parametrize("change, expected", [
    (edit_first_article, ["computed", "guess True"]),  # guessed while reading, then taken
    (lambda c: _add_article(c, "a.md", "2025-06-01 08:00"), ["computed", "guess True"]),
    (lambda c: next((Path(c) / "articles").rglob("*.md")).unlink(), ["computed", "guess True"]),
    (_move_first_article_back, ["computed", "guess False"]),  # guessed wrong: computed again
    (lambda c: _add_article(c, "b.md", "2025-06-01 08:00", "draft"), ["computed"]),  # none
])  # fmt: skip
def test_the_lists_process_guesses_the_lists_while_the_build_reads(
    tmp_path, monkeypatch, change, expected
):
    """The lists process guesses this build's lists from the last build's rows and the
    articles read anew, while the build reads; the build's real rows then decide: the guess
    is used only when computed from the same (an edit, a new article, one deleted), else
    the lists are computed again (an article moved among the others by its new date). No
    guess for a new draft. Either way: the pages of a cold build."""
    _RECORD["path"] = str(tmp_path / "calls")
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    monkeypatch.setattr(plugin, "keyed_lists", _recording_keyed_lists)
    content = labelled_content(tmp_path)
    settings = {"INCREMENTAL_WORKERS": 2, "CACHE_PATH": str(tmp_path / "cache")}
    build_site(tmp_path / "out", content=content, **settings)
    change(content)
    Path(_RECORD["path"]).unlink()
    site = build_site(tmp_path / "out", content=content, **settings)
    assert Path(_RECORD["path"]).read_text(encoding="utf-8").split() == " ".join(
        expected).split()  # fmt: skip
    cold = build_site(tmp_path / "cold", content=content, INCREMENTAL_WORKERS=2)
    assert file_digests(site.output) == file_digests(cold.output)
    assert not site.log.messages()


@pytest.mark.parametrize("save_minimum", [64, 1])
def test_texts_tokenised_since_the_vector_cache_was_written_are_kept_apart(
    tmp_path, monkeypatch, save_minimum
):
    """The vector cache is written only when enough texts are new (``must_save``); the texts
    tokenised meanwhile are kept in a file of their own (``PENDING_FILE``) and tokenised
    again when the next build reads the caches: after two edits of two articles the lists
    process is sent only the second text, and its guess needs no other. Once the vector
    cache is written, the file is gone."""
    _RECORD["path"] = str(tmp_path / "computed")
    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    monkeypatch.setattr(plugin, "SAVE_MINIMUM", save_minimum)
    monkeypatch.setattr(plugin, "_compute_sent", _recording_compute_sent)
    content = labelled_content(tmp_path)
    settings = {"INCREMENTAL_WORKERS": 2, "CACHE_PATH": str(tmp_path / "cache")}
    pending = tmp_path / "cache" / plugin.PENDING_FILE
    build_site(tmp_path / "out", content=content, **settings)
    assert not pending.exists()
    paths = sorted((Path(content) / "articles").rglob("*.md"))
    for path in paths[:2]:
        path.write_text(path.read_text(encoding="utf-8") + "\nHội nghị sơ kết quý.\n", "utf-8")
        site = build_site(tmp_path / "out", content=content, **settings)
        assert pending.exists() is (save_minimum > 1)
    sent = [line.split()[1] for line in Path(_RECORD["path"]).read_text().split("\n")[:-1]]
    assert sent == ["1", "1"]
    if save_minimum > 1:
        assert len(plugin.load_pending(str(pending))) == 2
    cold = build_site(tmp_path / "cold", content=content, INCREMENTAL_WORKERS=2)
    assert file_digests(site.output) == file_digests(cold.output)


def test_a_lists_process_left_by_a_failed_build_is_ended_by_the_next(tmp_path, monkeypatch):
    """A build that failed while it read (``make devserver`` goes on): the next build ends
    the process started for it before it starts its own."""
    import multiprocessing

    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    generator = FakeGenerator([], tmp_path / "cache")
    generator.settings["INCREMENTAL_WORKERS"] = 2
    plugin.start_process(generator)
    assert plugin._process is None  # no text keys of a last build
    related_lists([FakeArticle(n, t) for n, t in enumerate(labelled_texts()[:6])],
                  tmp_path / "cache")  # fmt: skip
    plugin.start_process(generator)
    left = plugin._process
    assert left is not None and left.known()  # it read the caches
    plugin.start_process(generator)
    assert plugin._process is not left and left.pool._shutdown_thread
    plugin.discard_process()
    assert plugin._process is None and multiprocessing.active_children() == []


def test_pending_list_stands_for_its_list():
    class Lists:
        waited = 0

        def get(self):
            self.waited += 1
            return [["a", "b", "c"], []]

    lists = Lists()
    first, second = plugin.PendingList(lists, 0), plugin.PendingList(lists, 1)
    assert lists.waited == 0  # nothing waits before the list is used
    assert bool(first) and not second
    assert len(first) == 3 and list(first) == ["a", "b", "c"] and first[1:] == ["b", "c"]
    assert "c" in first and first.index("b") == 1 and list(reversed(first)) == ["c", "b", "a"]
    assert pickle.loads(pickle.dumps(first)) == ["a", "b", "c"]
    assert repr(second) == "[]"


def test_site_fallback_and_max_setting(tmp_path):
    content = make_content(
        tmp_path,
        {
            f"{i}.md": markdown(f"Bài số {i}", f"2024-02-{i + 1:02d} 08:00", text)
            for i, text in enumerate(
                ["Xuân về trên quê hương.", "Một bài khác.", "Chuyện kể ba.", "Tin tư."]
            )
        },
    )
    site = build_site(tmp_path / "out", content=content, RELATED_POSTS_MAX=2)
    # Nothing in common: the latest of the category, newest first.
    assert related_hrefs(site, "2024/02/bai-so-0.html") == ["bai-so-3", "bai-so-2"]
    assert related_hrefs(site, "2024/02/bai-so-3.html") == ["bai-so-2", "bai-so-1"]


@pytest.mark.parametrize(
    "key, value",
    [("RELATED_POSTS_MAX", -1), ("RELATED_POSTS_MAX_DF", 2), ("RELATED_POSTS_TERMS", "40")],
)
def test_bad_setting_fails_with_a_clear_message(key, value):
    settings = dict(plugin.DEFAULTS, **{key: value})
    with pytest.raises(plugin.RelatedPostsSettingError, match=f"related_posts: {key}"):
        plugin.setting_values(settings)


@pytest.mark.parametrize(
    "value, expected",
    [("a, b ,c", ("a", "b", "c")), ("", ()), (None, ()), (["a", "b"], ("a", "b")), ("a,,", ("a",))],
)
def test_related_line_parsing(value, expected):
    assert plugin.related_slugs(value) == expected


def test_sample_site_seed_page_lists_party_articles(site):
    from tests.conftest import SEED_PATH

    hrefs = [a["href"] for a in site.soup(SEED_PATH).select("section.related ul a")]
    assert len(hrefs) == 5
    # The seed is about developing Party membership; so are the first related articles.
    assert all("dang" in href for href in hrefs[:3]), hrefs


# --- Plugin loading ----------------------------------------------------------------------------


FAKE_PLUGIN = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")

def register():
    pathlib.Path({marker!r}).write_text("registered")
"""


@pytest.fixture
def installed_namespace_plugin(tmp_path):
    """A fake installed ``pelican.plugins.related_posts`` (as pip would install one)."""
    import pelican.plugins

    marker = tmp_path / "marker.txt"
    root = tmp_path / "site-packages"
    package = root / "pelican" / "plugins" / "related_posts"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_PLUGIN.format(marker=str(marker)))
    pelican.plugins.__path__.append(str(root / "pelican" / "plugins"))
    try:
        yield marker
    finally:
        pelican.plugins.__path__._path.remove(str(root / "pelican" / "plugins"))
        sys.modules.pop("pelican.plugins.related_posts", None)


def two_party_articles(tmp_path):
    party = "Lễ kết nạp đảng viên mới cho quần chúng ưu tú của chi bộ thôn."
    return make_content(
        tmp_path,
        {
            "a.md": markdown("Kết nạp đảng viên A", "2024-01-01 08:00", party),
            "b.md": markdown("Kết nạp đảng viên B", "2024-01-02 08:00", party),
        },
    )


def test_installed_namespace_plugin_of_the_same_name_never_runs(
    tmp_path, installed_namespace_plugin
):
    marker = installed_namespace_plugin
    content = two_party_articles(tmp_path)
    # Control: the bare name would pick the installed package.
    build_site(tmp_path / "bare", content=content, PLUGINS=["related_posts"])
    assert marker.read_text() == "registered"
    marker.unlink()
    # Our settings load "plugins.related_posts": ours runs, the installed one is not registered.
    site = build_site(tmp_path / "ours", content=content)
    assert "plugins.related_posts" in site.settings["PLUGINS"]
    assert not marker.exists() or marker.read_text() == "imported"
    assert related_hrefs(site, "2024/01/ket-nap-dang-vien-a.html") == ["ket-nap-dang-vien-b"]


def test_a_stand_in_used_in_a_forked_process_fails_instead_of_waiting(tmp_path, monkeypatch):
    """A process forked from the build while the lists are computed (a render worker) has no
    way to get them: using a stand-in there raises at once instead of waiting for ever."""
    import time

    monkeypatch.setattr(plugin, "BACKGROUND_MINIMUM", 0)
    items = [FakeArticle(n, text) for n, text in enumerate(labelled_texts()[:6])]
    generator = FakeGenerator(items, tmp_path / "cache")
    generator.settings["INCREMENTAL_WORKERS"] = 2
    plugin.set_related_posts(generator)
    pid = os.fork()
    if pid == 0:  # the forked process
        try:
            list(items[0].related_posts)
        except RuntimeError:
            os._exit(0)
        os._exit(1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked process waited for the lists")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    plugin.wait_for_lists()  # the build's own process gets them
    assert all(type(item.related_posts) is list for item in items)
