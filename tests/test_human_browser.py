"""The rater's work in a real browser (Debian's chromium driven by playwright): every item answered, the counter,
answers surviving a reload, the CSV export, and the exported files of all raters ingested with the numbers that
follow from the clicks."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import require
from hyperfit.human import ingest, make_study, packet_html, preference_table
from test_human import synthetic_pairs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CLICKS = {1: "model", 2: "reference", 3: "equal"}  # what each rater chooses, whatever the sides


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "needs playwright (pip install playwright==1.65.2)")
    require(shutil.which("chromium") is not None, "needs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def answer(page, item_id: str, choice: str) -> None:
    page.check(f'input[name="{item_id}"][value="{choice}"]')


def test_raters_answer_reload_export_and_the_results_follow(browser, tmp_path):
    key, packets = make_study(synthetic_pairs(n_per_domain=3), raters=3, ratings_per_pair=3, seed=0)
    side = dict(zip(key["item_id"], key["model_side"]))
    exported = []
    for rater, items in packets.items():
        page_file = tmp_path / f"rater{rater}.html"
        page_file.write_text(packet_html(rater, items, "Which is better?"), encoding="utf-8")
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(page_file.as_uri())
        assert page.text_content("#done") == "0"
        chosen = {}
        for k, it in enumerate(items, 1):
            wanted = {"model": side[it["item_id"]], "reference": "B" if side[it["item_id"]] == "A" else "A",
                      "equal": "equal"}[CLICKS[rater]]
            answer(page, it["item_id"], wanted)
            chosen[it["item_id"]] = wanted
            assert page.text_content("#done") == str(k)  # the counter follows every click
        assert page.get_attribute(f"#{items[0]['item_id']}", "class") == "done"
        page.reload()  # the answers survive (localStorage and the address's '#' part)
        assert page.text_content("#done") == str(len(items))
        for item_id, choice in chosen.items():
            assert page.is_checked(f'input[name="{item_id}"][value="{choice}"]')
        with page.expect_download() as download:
            page.click("#export")
        target = tmp_path / "returned" / download.value.suggested_filename
        download.value.save_as(target)
        assert target.name == f"rater{rater}.csv"
        exported.append(str(target))
        context.close()
    table = preference_table(key, ingest(exported, key), iterations=50, seed=0)
    every = table[table["domain"] == "all"].iloc[0]
    assert every["ratings"] == 3 * every["pairs"] == 18
    assert every["preferred"] == pytest.approx(100 / 3) and every["equal"] == pytest.approx(100 / 3)
    assert every["preferred_or_equal"] == pytest.approx(200 / 3) and every["kappa"] == pytest.approx(-0.5)


def test_an_incomplete_export_asks_first(browser, tmp_path):
    key, packets = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    items = packets[1]
    page_file = tmp_path / "rater1.html"
    page_file.write_text(packet_html(1, items, "q"), encoding="utf-8")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(page_file.as_uri())
    answer(page, items[0]["item_id"], "A")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#export")
    assert asked == [f"{len(items) - 1} of {len(items)} items have no answer yet. Export anyway?"]
    page.once("dialog", lambda d: d.accept())
    with page.expect_download() as download:
        page.click("#export")
    path = tmp_path / "partial.csv"
    download.value.save_as(path)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert rows["item_id"].tolist() == [it["item_id"] for it in items]
    assert rows["choice"].tolist() == ["A"] + [""] * (len(items) - 1)
    context.close()


def test_answers_survive_a_reload_where_the_browser_keeps_no_storage(browser, tmp_path):
    """A browser that refuses localStorage to local files (or a private window): the answers still survive a
    reload, from the page's address."""
    key, packets = make_study(synthetic_pairs(), raters=3, ratings_per_pair=3, seed=0)
    items = packets[2]
    page_file = tmp_path / "rater2.html"
    page_file.write_text(packet_html(2, items, "q"), encoding="utf-8")
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(window, 'localStorage', "
                            "{get() { throw new DOMException('denied', 'SecurityError'); }});")
    page = context.new_page()
    page.goto(page_file.as_uri())
    chosen = dict(zip([it["item_id"] for it in items[:3]], ["A", "equal", "B"]))
    for item_id, choice in chosen.items():
        answer(page, item_id, choice)
    assert page.evaluate("() => { try { window.localStorage; return 'kept'; } catch (e) { return 'refused'; } }") \
        == "refused"
    page.reload()
    assert page.text_content("#done") == "3"
    for item_id, choice in chosen.items():
        assert page.is_checked(f'input[name="{item_id}"][value="{choice}"]')
    assert not page.is_checked(f'input[name="{items[3]["item_id"]}"][value="A"]')
    context.close()
