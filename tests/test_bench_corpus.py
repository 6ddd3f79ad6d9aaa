"""bench/corpus.py: the seeded synthetic corpus reused by the benchmarks."""

from collections import Counter

from bench.corpus import CATEGORIES, TAGS, generate_articles, to_markdown, write_markdown
from tests.conftest import build_site, make_content


def test_same_seed_same_articles_other_seed_other_articles():
    assert generate_articles(30, seed=4) == generate_articles(30, seed=4)
    assert generate_articles(30, seed=4) != generate_articles(30, seed=5)


def test_articles_have_the_promised_shape():
    articles = generate_articles(400, seed=1)
    words = [len(a["body"].split()) for a in articles]
    assert 450 <= sum(words) / len(words) <= 560
    assert set(Counter(a["category"] for a in articles)) == set(CATEGORIES)
    assert len(CATEGORIES) == 8 and len(TAGS) == 60
    assert {t for a in articles for t in a["tags"]} <= set(TAGS)
    assert 0.5 < sum(not a["tags"] for a in articles) / len(articles) < 0.9  # staff rarely tag
    assert len({a["slug"] for a in articles}) == len(articles)


def test_markdown_files_build_with_pelican(tmp_path):
    articles = generate_articles(12, seed=2)
    folder = tmp_path / "md"
    paths = write_markdown(articles, folder)
    assert len(paths) == 12 and all(p.read_text(encoding="utf-8") for p in paths)
    content = make_content(
        tmp_path, {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in paths}
    )
    categories = sorted({article["category"] for article in articles})
    site = build_site(tmp_path / "out", content=content, SITE_CATEGORIES=categories)
    for article in articles:
        page = f"{article['date']:%Y/%m}/{article['slug']}.html"
        assert site.exists(page), page
    assert to_markdown(articles[0]).startswith(f"Title: {articles[0]['title']}\n")
    assert not site.log.messages()
