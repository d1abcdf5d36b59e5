"""The temperature at which the original model's mean next-token entropy on the evaluation texts equals a
trained setting's (a coarse geometric grid, then a fine grid in the bracketing step, then interpolation)."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.modeling import load_model
    from hyperfit.runner import progress, read_json, write_json
    from hyperfit.temperature import match_temperature, pooled_entropy

    tokens = read_json(sm.input.tokens)
    sequences = [it["context"] + it["reference"] for it in tokens["eval"]]
    target = pooled_entropy(read_json(sm.input.target))
    model = load_model(sm.input.model, sm.params.dtype)
    search = sm.params.search
    with progress(2 * len(sequences), "temperature grids") as bar:
        result = match_temperature(model, sequences, target, tokens["pad_id"], search["low"], search["high"],
                                   search["points"], batch_size=sm.params.batch_size, progress=bar)
    write_json(sm.output.temperature, result)
    print(f"target entropy {target:.4f} nats: temperature {result['temperature']:.4f} "
          f"(entropy {result['entropy']:.4f}, matched: {result['matched']})")


run(snakemake, main)  # noqa: F821
