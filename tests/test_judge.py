"""The LLM judge (hyperfit.judge): combining the two orders, parsing answers, the prompt template, the preference
table against hand-worked values and the raters' own interval function, Cohen's kappa on a hand-computed case,
the sentence-shuffle check; then the judging path run for real on a tiny random Llama with a chat template, and
(slow) on the embedded default's SmolLM2-135M-Instruct."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CHAT, build_tiny_model
from hyperfit.errors import UserError
from hyperfit.human import PAIR, group_summary
from hyperfit.judge import (DEFAULT_PROMPT, SHUFFLED, answer_logprobs, answer_tokens, chat_ids, cohen_kappa,
                            combine, judge_is_hub, judge_model, judge_pairs, outcome_of, parse_answer,
                            preference_table, render, shuffle_pairs, shuffle_table, shuffled_sentences,
                            split_sentences, table_columns, template_problems)

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Which continuation of the text is better? Judge how fluent, coherent and interesting it is."


# ------------------------------------------------------------------------------------------ orders, answers
@pytest.mark.parametrize("ab, ba, pair", [
    ("model", "model", "model"), ("reference", "reference", "reference"), ("equal", "equal", "equal"),
    ("model", "reference", "equal"), ("reference", "model", "equal"),      # position bias: no winner
    ("model", "equal", "equal"), ("equal", "reference", "equal"),
])
def test_a_side_wins_only_when_both_orders_say_so(ab, ba, pair):
    assert combine(ab, ba) == pair


def test_answers_become_outcomes_by_the_side_the_model_text_is_on():
    # order ab shows the model's text as A, order ba as B: "A" in both orders is position bias, not a preference
    assert [outcome_of(c, "A") for c in ("A", "B", "equal")] == ["model", "reference", "equal"]
    assert [outcome_of(c, "B") for c in ("A", "B", "equal")] == ["reference", "model", "equal"]
    assert combine(outcome_of("A", "A"), outcome_of("A", "B")) == "equal"
    assert combine(outcome_of("A", "A"), outcome_of("B", "B")) == "model"


@pytest.mark.parametrize("text, choice", [
    ("A", "A"), (" B.", "B"), ("**B**", "B"), ("Continuation A is better.", "A"), ("Answer: B", "B"),
    ("They are equal.", "equal"), ("Equally good", "equal"), ("It's a tie", "equal"), ("TIE", "equal"),
    ("equal, but A reads better", "equal"),                     # the first answer in the text counts
    ("Both are good", None), ("", None), ("a or b", None),      # lower-case a/b are words, not answers
    ("Another one", None), ("ABBA", None),                      # A and B only as whole words
])
def test_a_generated_answer_is_its_first_standalone_answer(text, choice):
    assert parse_answer(text) == choice


def test_the_template_names_its_fields_and_is_filled_as_written():
    assert template_problems(DEFAULT_PROMPT) == []
    text = render(DEFAULT_PROMPT, "Which?", "Once upon a time", " there was {x}.", " the end.")
    assert "Beginning:\nOnce upon a time\n" in text and "Continuation A:\n there was {x}.\n" in text
    assert text.endswith("Which?\nAnswer with one word: A, B, or equal.")
    assert template_problems("{prompt} {a}") == ["judge.prompt: the template lacks {b}, so the judge would not see "
                                                 "what it compares: add them"]
    assert "unknown field(s) {0}" in template_problems("{prompt} {a} {b} {0}")[0]
    with pytest.raises(UserError, match="judge.prompt"):
        render("{prompt} {a}", "q", "c", "a", "b")


# ------------------------------------------------------------------------------------------------ numbers
def judged(outcomes: list[str], domains: list[str], agree: list[bool] | None = None, **group) -> pd.DataFrame:
    """A judge_pairs table by hand: one pair per outcome."""
    g = {"model": "m", "variant": "hyperfitted", "decoding": "greedy", "length": 96, **group}
    rows = []
    for i, (o, d) in enumerate(zip(outcomes, domains)):
        rows.append({**g, "domain": d, "index": i, "outcome": o, "agree": True if agree is None else agree[i],
                     "outcome_ab": o, "outcome_ba": o, "parsed_ab": True, "parsed_ba": True,
                     "mass_ab": 0.5, "mass_ba": 0.7})
    return pd.DataFrame(rows)


def test_the_preference_table_counts_pairs_as_the_raters_table_counts_ratings():
    table = judged(["model", "model", "reference", "equal"], ["fiction", "fiction", "news", "news"],
                   agree=[True, True, True, False])
    out = preference_table(table, iterations=0, seed=0)
    assert list(out["domain"]) == ["fiction", "news", "all"]   # each domain, then all pooled (hyperfit.human)
    row = out.set_index("domain").loc["all"]
    assert row["pairs"] == 4
    assert (row["preferred"], row["equal"], row["preferred_or_equal"]) == (50.0, 25.0, 75.0)
    assert row["agreement"] == 75.0 and row["unparsed"] == 0 and row["answer_mass"] == pytest.approx(0.6)
    assert math.isnan(row["preferred_lo"])                      # no resamples, no interval
    assert row["kappa_judge_human"] == "not collected" and row["human_ratings"] == 0
    fiction = out.set_index("domain").loc["fiction"]
    assert (fiction["preferred"], fiction["equal"]) == (100.0, 0.0)
    columns = table_columns(out)                                # the pooled row, named for a table beside the raters'
    assert list(columns.columns) == ["model", "variant", "decoding", "length", "judge_pref_or_equal",
                                     "judge_pref_or_equal_lo", "judge_pref_or_equal_hi", "judge_preferred",
                                     "judge_equal", "judge_agreement"]
    assert len(columns) == 1 and tuple(columns.iloc[0][["judge_pref_or_equal", "judge_preferred", "judge_equal",
                                                        "judge_agreement"]]) == (75.0, 50.0, 25.0, 75.0)


def test_the_interval_is_the_raters_bootstrap_of_the_pairs():
    outcomes = ["model"] * 6 + ["reference"] * 3 + ["equal"]
    out = preference_table(judged(outcomes, ["wiki"] * 10), iterations=500, seed=3).iloc[-1]
    counts = np.array([[o == c for c in ("model", "reference", "equal")] for o in outcomes], dtype=float)
    # the raters' table seeds group number n with [seed, n]; "all" is the second group here (wiki, all)
    same = group_summary(counts, 500, np.random.default_rng([3, 1]))
    for col in ("preferred", "preferred_lo", "preferred_hi", "equal_lo", "equal_hi", "preferred_or_equal_hi"):
        assert out[col] == pytest.approx(same[col]), col
    assert out["preferred_lo"] < 60.0 < out["preferred_hi"]


def test_cohen_kappa_of_a_hand_computed_two_by_two():
    # judge model, model, reference, reference against raters model, reference, reference, reference:
    # observed agreement 3/4; chance 1/2 x 1/4 + 1/2 x 3/4 = 1/2; kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2
    judge = ["model", "model", "reference", "reference"]
    human = ["model", "reference", "reference", "reference"]
    assert cohen_kappa(judge, human) == pytest.approx(0.5)
    assert cohen_kappa(judge, judge) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa(["equal"] * 3, ["equal"] * 3))   # chance agreement 1: undefined
    assert math.isnan(cohen_kappa([], []))


def test_the_judge_is_compared_with_every_rating_of_its_pairs():
    """Two pairs, two ratings each, joined through the key as hyperfit.human.ingest leaves them. Judge model,
    reference; raters (model, model) and (model, reference). Judge vs each rating: judge m m r r, raters
    m m m r: p_o 3/4, p_e 1/2 x 3/4 + 1/2 x 1/4 = 1/2, kappa 1/2. Rater vs rater, every ordered pair:
    m m m r against m m r m: p_o 1/2, p_e 3/4^2 + 1/4^2 = 5/8, kappa (1/2 - 5/8) / (3/8) = -1/3."""
    table = judged(["model", "reference"], ["fiction", "fiction"])
    key = table[PAIR].assign(item_id=["item-0002", "item-0001"], model_side=["A", "B"], raters="1 2")
    ratings = pd.DataFrame({"rater": [1, 2, 1, 2], "item_id": ["item-0002", "item-0002", "item-0001", "item-0001"],
                            "outcome": ["model", "model", "model", "reference"]})
    row = preference_table(table, 0, 0, key=key, ratings=ratings).iloc[-1]
    assert row["human_ratings"] == 4
    assert row["kappa_judge_human"] == pytest.approx(0.5)
    assert row["kappa_human_human"] == pytest.approx(-1 / 3)


# ------------------------------------------------------------------------------------------ sanity check
TEXT = (" off the bench. She looked up. \"Who is there?\" she asked, and nobody answered! Then the door opened.\n"
        "It was Mr. Brown, who")


def test_sentences_split_at_end_punctuation_and_line_breaks():
    # simple, not clever: a closing quote ends a sentence too, and so does an abbreviation's full stop
    assert split_sentences(TEXT) == ["off the bench.", "She looked up.", "\"Who is there?\"",
                                     "she asked, and nobody answered!", "Then the door opened.", "It was Mr.",
                                     "Brown, who"]
    assert split_sentences("no end in sight") == ["no end in sight"]


def test_the_shuffle_keeps_the_sentences_and_changes_their_order():
    original = split_sentences(TEXT)
    for seed in range(20):
        shuffled = shuffled_sentences(TEXT, seed)
        assert sorted(shuffled) == sorted(original) and shuffled != original
    assert shuffled_sentences(TEXT, 7) == shuffled_sentences(TEXT, 7)          # seeded
    assert len({tuple(shuffled_sentences(TEXT, s)) for s in range(20)}) > 5
    assert shuffled_sentences("one sentence only", 0) is None
    assert shuffled_sentences("Again. Again.", 0) is None                     # no other order exists
    assert shuffled_sentences("Yes. No.", 0) == ["No.", "Yes."]               # the one other order


def test_shuffle_pairs_take_each_human_continuation_once():
    base = {"variant": "hyperfitted", "decoding": "greedy", "length": 96, "domain": "wiki", "context": "C",
            "model_text": "x"}
    pairs = [{**base, "model": "m", "index": 0, "reference_text": TEXT},
             {**base, "model": "m", "index": 0, "reference_text": TEXT, "decoding": "top_p"},   # same reference
             {**base, "model": "m", "index": 1, "reference_text": "A single sentence without end"}]
    checks, skipped = shuffle_pairs(pairs, seed=0)
    assert skipped == [{"model": "m", "length": 96, "domain": "wiki", "index": 1}]
    assert len(checks) == 1
    check = checks[0]
    assert (check["variant"], check["decoding"], check["index"]) == (SHUFFLED, "-", 0)
    assert check["reference_text"] == " ".join(split_sentences(TEXT))        # the original, spaced alike
    assert sorted(check["model_text"].split()) == sorted(check["reference_text"].split())
    assert check["model_text"] != check["reference_text"]
    assert shuffle_pairs(pairs, seed=0) == (checks, skipped)


def test_the_shuffle_table_reads_reference_as_the_original():
    table = judged(["reference", "reference", "model", "equal"], ["wiki"] * 4, agree=[True, True, True, False],
                   variant=SHUFFLED, decoding="-")
    row = shuffle_table(table, 0, 0, skipped=[{"model": "m", "length": 96, "domain": "wiki", "index": 9}]).iloc[-1]
    assert (row["domain"], row["pairs"], row["skipped"]) == ("all", 4, 1)
    assert (row["original_preferred"], row["shuffled_preferred"], row["equal"]) == (50.0, 25.0, 25.0)
    assert row["agreement"] == 75.0


# ------------------------------------------------------------------------------------------ a real model
@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory):
    """The suite's tiny random Llama, its tokenizer given a chat template (as an instruct model's has)."""
    from hyperfit.modeling import load_model, load_tokenizer

    path = build_tiny_model(tmp_path_factory.mktemp("judge") / "tiny-chat")
    tok = load_tokenizer(str(path))
    tok.chat_template = CHAT
    return load_model(str(path)), tok


def study_pairs(n: int = 3) -> list[dict]:
    texts = [(" the market fell sharply on Monday. Traders blamed the new figures.",
              " the the the the the the the the the the."),
             (" police said the man was arrested. He will appear in court today.",
              " police police said said the the man man."),
             (" rain is expected across the state. Farmers welcomed the news.",
              " rain rain rain is is expected expected.")]
    return [{"model": "tiny", "variant": "hyperfitted", "decoding": "greedy", "length": 16, "domain": "news",
             "index": i, "context": "In Sydney,", "model_text": texts[i % 3][1], "reference_text": texts[i % 3][0]}
            for i in range(n)]


def test_the_judge_runs_on_a_tiny_llama_in_both_orders(tiny_judge):
    model, tok = tiny_judge
    pairs = study_pairs()
    out = judge_pairs(model, tok, pairs, DEFAULT_PROMPT, QUESTION, method="logprob", batch_size=4, name="tiny")
    assert len(out) == 3 and list(out["index"]) == [0, 1, 2]
    for order in ("ab", "ba"):
        assert set(out[f"choice_{order}"]) <= {"A", "B", "equal"} and out[f"parsed_{order}"].all()
        assert ((0 < out[f"mass_{order}"]) & (out[f"mass_{order}"] <= 1)).all()
    assert list(out["outcome"]) == [combine(a, b) for a, b in zip(out["outcome_ab"], out["outcome_ba"])]
    assert list(out["agree"]) == list(out["outcome_ab"] == out["outcome_ba"])
    table = preference_table(out, 50, 0)
    assert table.iloc[-1]["pairs"] == 3

    gen = judge_pairs(model, tok, pairs[:2], DEFAULT_PROMPT, QUESTION, method="generate", max_new_tokens=3,
                      batch_size=2, name="tiny")
    assert len(gen) == 2 and gen["answer_ab"].map(lambda t: isinstance(t, str)).all()
    assert list(gen["choice_ab"]) == [parse_answer(t) or "equal" for t in gen["answer_ab"]]
    assert gen["mass_ab"].isna().all()
    checks, _ = shuffle_pairs(pairs, seed=0)
    assert len(shuffle_table(judge_pairs(model, tok, checks, DEFAULT_PROMPT, QUESTION, name="tiny"), 0, 0)) == 2


def test_a_batch_gives_what_each_prompt_gives_alone(tiny_judge):
    """Left padding with position ids from each prompt's first token: batching changes no number."""
    model, tok = tiny_judge
    answers = answer_tokens(tok)
    texts = [(p["model_text"], p["reference_text"]) for p in study_pairs()] + [(" No.", " Yes.")]
    prompts = [chat_ids(tok, render(DEFAULT_PROMPT, QUESTION, "In Sydney,", a, b)) for a, b in texts]
    assert max(map(len, prompts)) - min(map(len, prompts)) > 20              # the batch is padded, much
    alone = [answer_logprobs(model, [p], answers, tok.pad_token_id)[0] for p in prompts]
    together = answer_logprobs(model, prompts, answers, tok.pad_token_id, batch_size=4)
    for a, b in zip(alone, together):
        assert a["choice"] == b["choice"]
        for c in ("logp_A", "logp_B", "logp_equal", "mass"):
            assert a[c] == pytest.approx(b[c], abs=1e-5)


def test_a_tokenizer_without_a_chat_template_is_refused(tiny_judge):
    import copy

    model, tok = tiny_judge
    base = copy.deepcopy(tok)
    base.chat_template = None
    with pytest.raises(UserError, match=r"^judge.model tiny: its tokenizer has no chat template"):
        judge_pairs(model, base, study_pairs(1), DEFAULT_PROMPT, QUESTION, name="tiny")


def test_a_prompt_longer_than_the_judges_context_is_refused(tiny_judge):
    model, tok = tiny_judge
    pairs = study_pairs(1)
    pairs[0]["model_text"] = " word" * 600                                   # the tiny Llama has 512 positions
    with pytest.raises(UserError, match=r"^judge.prompt: a judge prompt of \d+ tokens exceeds the 512 positions"):
        judge_pairs(model, tok, pairs, DEFAULT_PROMPT, QUESTION, name="tiny")


def test_the_default_prompt_is_the_configs():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    assert config["judge"]["prompt"] == paper["judge"]["prompt"] == DEFAULT_PROMPT
    assert judge_model(config) == "smollm2-135m" and not judge_is_hub(config)  # offline: the default's own model
    assert judge_is_hub(paper) and paper["judge"]["size"]["params"] > 7e10
    assert judge_model({"judge": {"model": None}, "models": {"tiny": {}, "other": {}}}) == "tiny"


# ------------------------------------------------------------------------------------------ the default's model
@pytest.mark.slow
def test_the_default_instruct_model_judges_three_pairs(default_model_dir):
    """Mechanics only on SmolLM2-135M-Instruct (its GGUF's chat template carried over by the conversion): every
    answer read, both orders. Not its quality: a 135M model answers "A" whatever it is shown. ~10 s once the
    model folder exists (converted once per session, tests/conftest.py)."""
    from hyperfit.judge import load_judge

    folder = default_model_dir
    model, tok = load_judge(str(folder), name="smollm2-135m")
    out = judge_pairs(model, tok, study_pairs(3), DEFAULT_PROMPT, QUESTION, batch_size=6, name="smollm2-135m")
    print(out[["choice_ab", "choice_ba", "mass_ab", "mass_ba", "outcome"]].to_string())
    assert len(out) == 3 and out["parsed_ab"].all() and out["parsed_ba"].all()
    assert set(out["choice_ab"]) | set(out["choice_ba"]) <= {"A", "B", "equal"}
    assert (out["mass_ab"] > 0).all() and (out["mass_ba"] > 0).all()
