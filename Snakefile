# The Hyperfitting Phenomenon (Carlsson et al., ICLR 2025) as one workflow.
#
# Output path convention (every rule follows it):
#   resources/<kind>/<name>...                       retrieved inputs (PyPI artifacts, models, corpora)
#   results/<stage>/<model>/<variant>/<file>         computed results; variant = original | hyperfitted
#   results/tables/<table>.{tsv,md}, results/figures/<figure>.{pdf,png}   what the paper shows
#   logs/<stage>/<wildcards...>.log                  one log per job (progress bars land here)
#   benchmarks/<stage>/<wildcards...>.tsv            wall time and memory of the expensive jobs
#   results/checkpoints/...                          resume state of training (not a declared output)
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


rule hyperfit_all:
    input:
        expand(rules.hyperfit_model.output.model, model=MODELS),


rule generate_all:
    input:
        generation_outputs(),
