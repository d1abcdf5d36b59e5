"""Figure 1 as an HTML page and a PNG, from its data file."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.plots import save
    from hyperfit.runner import atomic_path, read_json
    from hyperfit.textfigures import figure1_html, figure1_png

    data = read_json(sm.input.data)
    with atomic_path(sm.output.html) as tmp:
        tmp.write_text(figure1_html(data), encoding="utf-8")
    save(figure1_png(data), sm.output.png)


run(snakemake, main)  # noqa: F821
