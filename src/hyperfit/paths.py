"""Every file the workflow reads or writes, spelled once: the rules' `output:` take these patterns, input
functions and the settings table format them, and scripts read the paths their rule names (never their own).

    resources/<kind>/<name>...                          retrieved inputs (PyPI artifacts, models, corpora)
    results/plan/                                       the plan: settings.tsv and runs.tsv
    results/data/...                                    passages and token ids
    results/train/{model}/{setting}/                    one training run: model/, history.tsv, run.json and,
                                                        where an experiment reads them, early_stopped/
    results/eval/{model}/{setting}/{weights}/...        what is measured on one set of weights:
        {method}-{length}.jsonl        continuations    {method}-{length}.tsv   their per-text metrics
        scores.json                    teacher-forced scores of the evaluation texts
        figure4_position.tsv           Figure 4's next-token distribution
        lmeval_{suite}.json            lm-eval's numbers
        temperature-{setting}.json     (original only) the temperature matching that setting's entropy
        logit_bias*.pt, own_entropy.json, overrides.tsv, layers.tsv   (hyperfitted only) the follow-up's measures
    results/eval/{model}/mauve_{table}.tsv              MAUVE of the generation files one table shows
    results/eval/{model}/quality_{table}.tsv            the per-text scorer perplexity and coherence of those
                                                        files and of the human continuations (hyperfit.quality)
    results/tables/<table>.{tsv,md}, results/figures/<figure>.{pdf,png}   what the paper shows
    results/human/...                                   the human preference study kit and its results
    results/judge/{model}/{table}.tsv, shuffled*.tsv    the LLM judge on the study's pairs, and its sanity check
    results/checkpoints/{model}/{setting}/              resume state of training (not a declared output)
{weights} is `model` (the final weights) or `early_stopped` (the same run at its lowest validation loss).
"""
from __future__ import annotations

# ------------------------------------------------------------------------------------------ retrieved inputs
PYPI_ASSET = "resources/pypi/{asset}.pkg"
MODEL = "resources/models/{model}"
MODEL_SOURCE = "resources/models/{model}.source.json"
CORPUS = "resources/corpora/{domain}.jsonl"
CORPUS_SOURCE = "resources/corpora/{domain}.source.json"
LMEVAL_TASKS = "resources/lmeval/{suite}"
LMEVAL_SOURCE = "resources/lmeval/{suite}.source.json"
LMEVAL_CACHE = "resources/lmeval/hf_datasets_cache"
MAUVE_FEATURIZER = "resources/models/mauve-featurizer"
MAUVE_FEATURIZER_SOURCE = "resources/models/mauve-featurizer.source.json"
QUALITY_SCORER = "resources/models/quality-scorer"
QUALITY_SCORER_SOURCE = "resources/models/quality-scorer.source.json"
COHERENCE_MODEL = "resources/models/coherence-model"
COHERENCE_MODEL_SOURCE = "resources/models/coherence-model.source.json"
JUDGE_MODEL = "resources/models/judge"
JUDGE_MODEL_SOURCE = "resources/models/judge.source.json"
REVISIONS_LOCK = "results/revisions.lock.yaml"

# ------------------------------------------------------------------------------------------ plan and data
PLAN_SETTINGS = "results/plan/settings.tsv"
PLAN_RUNS = "results/plan/runs.tsv"
PASSAGES = "results/data/passages.json"
SELECTION = "results/data/selection.tsv"
TOKENS = "results/data/{model}/tokens.json"

# ------------------------------------------------------------------------------------------ training
TRAIN = "results/train/{model}/{setting}"
CHECKPOINTS = "results/checkpoints/{model}/{setting}"
# inside a training run's folder
RUN_WEIGHTS = "model"
RUN_EARLY_STOPPED = "early_stopped"
RUN_HISTORY = "history.tsv"
RUN_FACTS = "run.json"

# ------------------------------------------------------------------------------------------ evaluation
EVAL = "results/eval/{model}/{setting}/{weights}"
GENERATION = EVAL + "/{method}-{length}.jsonl"
TEXT_METRICS = EVAL + "/{method}-{length}.tsv"
SCORES = EVAL + "/scores.json"
FIGURE4_POSITION = "results/eval/{model}/{setting}/model/figure4_position.tsv"
LMEVAL = "results/eval/{model}/{setting}/model/lmeval_{suite}.json"
TEMPERATURE = "results/eval/{model}/original/model/temperature-{setting}.json"
LOGIT_BIAS = "results/eval/{model}/hyperfitted/model/logit_bias.pt"
LOGIT_BIAS_ENTROPY = "results/eval/{model}/hyperfitted/model/logit_bias.json"
LOGIT_BIAS_TOP = "results/eval/{model}/hyperfitted/model/logit_bias_top.pt"
OWN_ENTROPY = "results/eval/{model}/hyperfitted/model/own_entropy.json"
OVERRIDES = "results/eval/{model}/hyperfitted/model/overrides.tsv"
LAYERS = "results/eval/{model}/hyperfitted/model/layers.tsv"
MAUVE = "results/eval/{model}/mauve_{table}.tsv"
QUALITY = "results/eval/{model}/quality_{table}.tsv"

# ------------------------------------------------------------------------------------------ products
TABLE = "results/tables/{table}.tsv"
TABLE_MD = "results/tables/{table}.md"
FIGURE_PDF = "results/figures/{figure}.pdf"
FIGURE_PNG = "results/figures/{figure}.png"
FIGURE1_DATA = "results/tables/figure1_data.json"
FIGURE1_HTML = "results/figures/figure1.html"
HUMAN_KEY = "results/human/key.tsv"
HUMAN_PACKET_HTML = "results/human/packets/rater{rater}.html"
HUMAN_PACKET_CSV = "results/human/packets/rater{rater}.csv"
HUMAN_PREFERENCE = "results/human/preference.tsv"
HUMAN_PREFERENCE_MD = "results/human/preference.md"
JUDGE = "results/judge/{model}/{table}.tsv"                 # the LLM judge's outcome of every pair a table shows
JUDGE_SHUFFLED = "results/judge/{model}/shuffled.tsv"      # its sanity check, pair by pair
JUDGE_SHUFFLED_SUMMARY = "results/judge/{model}/shuffled_summary.tsv"   # ... and summarised

# ------------------------------------------------------------------------------------------ image branch
IMAGE_DATA = "results/data/{image}/images.json"
IMAGE_DATA_SOURCE = "results/data/{image}/images.source.json"
IMAGE_TRAIN = "results/train/{image}/{stage}"
IMAGE_COMPLETIONS = "results/eval/{image}/{setting}/model/completions.jsonl"


def run_file(run_dir: str, name: str) -> str:
    """A file inside a training run's folder (RUN_HISTORY, RUN_FACTS, RUN_WEIGHTS, RUN_EARLY_STOPPED)."""
    return f"{run_dir}/{name}"


def table(name: str) -> str:
    return TABLE.format(table=name)


def table_md(name: str) -> str:
    return TABLE_MD.format(table=name)


def figure(name: str) -> dict[str, str]:
    return {"pdf": FIGURE_PDF.format(figure=name), "png": FIGURE_PNG.format(figure=name)}
