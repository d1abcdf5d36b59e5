"""The claims table: each claim of the paper and the follow-up this workflow measures, the paper's value, this
run's estimate with its 95% interval and a verdict (hyperfit.claims), and the run's scale beside it."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.claims import claims_markdown, claims_table, page_table, read_inputs, run_scale
    from hyperfit.runner import atomic_path, write_table

    tables = {name: path for name, path in sm.input.items() if name in sm.params.tables}
    inputs = read_inputs(tables, dict(sm.params.histories), list(sm.params.bias_runs), sm.input.images,
                         dict(zip(sm.params.variants, sm.input.completions)))
    table = claims_table(**inputs, image_model=sm.params.image_model, lora_variants=list(sm.params.lora_variants),
                         threshold=sm.params.threshold, seed=sm.params.seed)
    scale = run_scale(sm.config, dict(sm.params.main_runs))
    write_table(table, sm.output.tsv)
    write_table(page_table(table), sm.output.page)
    write_table(scale, sm.output.scale)
    with atomic_path(sm.output.md) as tmp:
        tmp.write_text(claims_markdown(table, scale), encoding="utf-8")
    print(table.to_string())


run(snakemake, main)  # noqa: F821
