# The Hyperfitting Phenomenon (Carlsson et al., ICLR 2025) as one workflow.
#
# The unit is a *setting* (everything that decides a trained model): hyperfit.settings lists every one the
# config asks for, `original` (no training) and the main run `hyperfitted` included; one rule trains a
# setting, one generates, one scores. The plan (hyperfit.plan) is built once and written to results/plan/.
# Output path convention (every pattern is a constant of hyperfit.paths):
#   resources/<kind>/<name>...                           retrieved inputs (PyPI artifacts, models, corpora)
#   results/plan/settings.tsv, runs.tsv                  the plan: every setting, and what each target reads
#   results/data/...                                     passages and token ids
#   results/train/<model>/<setting>/                     a training run: model/, history.tsv, early_stopped/
#   results/eval/<model>/<setting>/<weights>/<file>      what is measured on one set of weights
#   results/tables/<table>.{tsv,md}, results/figures/<figure>.{pdf,png}   what the paper shows
#   results/human/...                                    the human preference study kit and its results
#   logs/<stage>/<wildcards...>.log                      one log per job (progress bars land here)
#   benchmarks/<stage>/<wildcards...>.tsv                wall time and memory of the expensive jobs
#   results/checkpoints/<model>/<setting>/               resume state of training (not a declared output)
from snakemake.utils import min_version

min_version("9.0")


# The embedded default, unless --configfile names a config of its own (config/paper.yaml, a test's config):
# that one replaces it, and keys it leaves out take the schema's defaults, which equal config/config.yaml's.
if not workflow.overwrite_configfiles:

    configfile: f"{workflow.basedir}/config/config.yaml"  # found from any --directory


# `snakemake --report report.html` opens on this page: the claims table, and the scale of the run it is about.
report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/plan.smk"
include: "rules/resources.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/eval.smk"
# the families of products, each from its measures to its tables and figures
include: "rules/main_run.smk"
include: "rules/sweeps.smk"
include: "rules/comparison.smk"
include: "rules/human.smk"
include: "rules/downstream.smk"
include: "rules/image.smk"
include: "rules/claims.smk"


# The plan: which models train on what, and which targets read them (results/plan/settings.tsv, runs.tsv).
rule plan:
    input:
        rules.write_plan.output,


# One target per figure and table, in the paper's order, then the baselines, the human study, downstream
# evaluation and the image branch; each leads to its rule in the family's file (rules/main_run.smk,
# sweeps.smk, comparison.smk, human.smk, downstream.smk, image.smk).
rule figure2:
    input:
        rules.plot_figure2.output,


rule table1:
    input:
        rules.make_table1.output,


rule figure1:
    input:
        rules.plot_figure1.output,


rule figure9:
    input:
        rules.plot_figure9.output,


rule table2:
    input:
        rules.make_table2.output,


rule figure3:
    input:
        rules.plot_figure3.output,


rule table3:
    input:
        rules.make_table3.output,


rule figure4:
    input:
        rules.plot_figure4.output,


rule figure5:
    input:
        rules.plot_figure5.output,
        rules.make_figure5_shuffle.output,
        rules.make_figure5_quantity.output,


rule table4:
    input:
        rules.make_table4.output,


rule comparison:
    input:
        rules.make_comparison.output,
        rules.plot_comparison.output,


rule followup_bias:
    input:
        rules.make_followup_bias.output,
        rules.plot_followup_bias.output,


rule followup_layers:
    input:
        rules.make_followup_layers.output,
        rules.plot_followup_layers.output,


rule followup_overrides:
    input:
        rules.make_followup_overrides.output,


rule human_packets:
    input:
        rules.make_human_packets.output,


rule human_results:
    input:
        rules.summarize_human_ratings.output,


rule table_mmlu:
    input:
        expand(rules.make_lmeval_table.output, suite="mmlu"),


rule table_glue:
    input:
        expand(rules.make_lmeval_table.output, suite="glue"),


rule figure_downstream:
    input:
        rules.plot_downstream.output,


rule figure6:
    input:
        rules.plot_figure6.output,


rule image_repetition:
    input:
        rules.make_image_repetition.output,


# The hub commits of every download, as a lock file (a config with revisions_lock: <it> resolves to them again).
rule revisions:
    input:
        rules.lock_revisions.output,


# Which of the papers' claims hold at this run's scale (the report's first page).
rule claims:
    input:
        rules.make_claims.output,
        rules.plot_claims.output,


# Intermediate stages as targets: every training run, generation file, and lm-eval result.
rule train_all:
    input:
        [S.train_dir(s.model, s.name) for s in SETTINGS.values() if s.trained],


rule generate_all:
    input:
        [g["texts"] for g in PLAN.generations],


rule lmeval_all:
    input:
        [S.lmeval_result(r["model"], r["setting"], suite) for r in RUNS["variants"] for suite in SUITES],


rule all:
    default_target: True
    input:
        rules.plan.input,
        *(getattr(rules, target).input for target in S.targets(config)),
        rules.claims.input,
        *(rules.revisions.input if HUB_SOURCES else []),  # nothing from the hub (the default): no lock
