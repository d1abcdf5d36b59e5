"""The LLM judge on the human study's pairs (hyperfit.judge): each generated continuation against the human
continuation of the same evaluation text, cut to the same length, judged in both orders (judge_pairs); Table 1's
job (judge_table1) then, with the judge still loaded, runs the sanity check: each of those human continuations
against its own sentences shuffled."""
from hyperfit.runner import run


def main(sm):
    from tqdm import tqdm

    from hyperfit.human import generation_pairs, reference_texts
    from hyperfit.judge import judge_pairs, load_judge, shuffle_pairs, shuffle_table
    from hyperfit.modeling import load_tokenizer
    from hyperfit.runner import read_json, read_jsonl, write_table

    p, j = sm.params, sm.params.judge
    tokens = read_json(sm.input.tokens)
    decode = load_tokenizer(sm.input.tokenizer).decode
    pairs = []
    for r in p.runs:
        refs = reference_texts(tokens["eval"], int(r["length"]), decode)
        pairs += generation_pairs(read_jsonl(r["texts"]), refs, r["model"], r["variant"], r["decoding"],
                                  int(r["length"]))
    model, tokenizer = load_judge(sm.input.judge, j["dtype"], p.name)

    def judge(pairs, what):
        with tqdm(total=2 * len(pairs), desc=f"judge prompts ({what})", mininterval=5) as bar:
            table = judge_pairs(model, tokenizer, pairs, j["prompt"], p.question, j["method"], j["batch_size"],
                                j["max_new_tokens"], p.name, bar)
        print(f"{what}: {len(table)} pairs judged in both orders: {table['outcome'].value_counts().to_dict()}; the "
              f"two orders agree on {100 * table['agree'].mean():.1f}%")
        return table

    write_table(judge(pairs, "the study's pairs"), sm.output.table)
    if "summary" in sm.output.keys():  # the sanity check
        shuffled, skipped = shuffle_pairs(pairs, p.seed)
        table = judge(shuffled, "sentences shuffled")
        write_table(table, sm.output.shuffled)
        summary = shuffle_table(table, p.iterations, p.seed, skipped)
        write_table(summary, sm.output.summary)
        print(summary.to_string())


run(snakemake, main)  # noqa: F821
