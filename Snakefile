# The Hyperfitting Phenomenon (Carlsson et al., ICLR 2025) as one workflow.
#
# Output path convention (every rule follows it):
#   resources/<kind>/<name>...                       retrieved inputs (PyPI artifacts, models, corpora)
#   results/<stage>/<model>/<variant>/<file>         computed results; variant = original | hyperfitted
#   results/tables/<table>.{tsv,md}, results/figures/<figure>.{pdf,png}   what the paper shows
#   logs/<stage>/<wildcards...>.log                  one log per job (progress bars land here)
#   benchmarks/<stage>/<wildcards...>.tsv            wall time and memory of the expensive jobs
#   results/sweeps/<model>/<setting>/...             models trained by the sweeps (Figure 5, Table 4, comparison)
#   results/checkpoints/...                          resume state of training (not a declared output)
#   resources/lmeval/hf_datasets_cache/              datasets' cache of the offline lm-eval tasks (not declared)
from snakemake.utils import min_version

min_version("9.0")


# The embedded default, unless --configfile names a complete config of its own (config/paper.yaml, a test's
# tiny config): those replace it rather than being merged key by key into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/data.smk"
include: "rules/hyperfit.smk"
include: "rules/generate.smk"
include: "rules/metrics.smk"
include: "rules/figures.smk"
include: "rules/sweeps.smk"
include: "rules/human.smk"
include: "rules/lmeval.smk"
include: "rules/image.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


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


rule human_packets:
    input:
        rules.make_human_packets.output,


rule human_results:
    input:
        rules.summarize_human_ratings.output,


rule table_mmlu:
    input:
        rules.make_table_mmlu.output,


rule table_glue:
    input:
        rules.make_table_glue.output,


rule figure_downstream:
    input:
        rules.plot_downstream.output,


rule lmeval_all:
    input:
        expand(rules.evaluate_lmeval.output.results, model=MODELS, variant=VARIANTS, suite=SUITES),


rule figure6:
    input:
        rules.plot_figure6.output,


rule image_repetition:
    input:
        rules.make_image_repetition.output,


rule figure5:
    input:
        rules.plot_figure5.output,


rule table4:
    input:
        rules.make_table4.output,


rule comparison:
    input:
        rules.make_comparison.output,
        rules.plot_comparison.output,


rule hyperfit_all:
    input:
        expand(rules.hyperfit_model.output.model, model=MODELS),


rule generate_all:
    input:
        generation_outputs(),
