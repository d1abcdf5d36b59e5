"""The hub commits this run's downloads resolved to, as a lock file: `revisions_lock: <it>` in a config makes a
later run resolve to exactly these."""
from hyperfit.runner import run


def main(sm):
    from pathlib import Path

    from hyperfit.revisions import lock_text
    from hyperfit.runner import atomic_path

    text = lock_text(sm.input.sources)
    with atomic_path(sm.output.lock) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    print(text)


run(snakemake, main)  # noqa: F821
