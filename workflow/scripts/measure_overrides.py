"""The follow-up's overrides: the hyperfitted model's greedy continuations teacher-forced through the original
model; per text, the steps whose token is not the original's top-1 and the original's rank of those tokens."""
from hyperfit.runner import run


def main(sm):
    import pandas as pd

    from hyperfit.followup import override_counts
    from hyperfit.modeling import load_model
    from hyperfit.runner import read_json, read_jsonl, write_table

    model = load_model(sm.input.model, sm.params.dtype)
    eos = model.generation_config.eos_token_id
    suppressed = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
    rows = override_counts(model, read_jsonl(sm.input.texts), read_json(sm.input.tokens)["pad_id"],
                           sm.params.batch_size, suppressed)
    table = pd.DataFrame(rows)
    write_table(table, sm.output.table)
    steps, over = int(table["steps"].sum()), int(table["overrides"].sum())
    print(f"{over} of {steps} steps override the original's top-1 ({over / steps:.3f}); the original's EOS "
          f"{suppressed} kept out of its ranking, as the decoder keeps it out")


run(snakemake, main)  # noqa: F821
