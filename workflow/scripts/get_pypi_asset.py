"""Download one pinned PyPI artifact and verify its sha256."""
from hyperfit.runner import run


def main(sm):
    from hyperfit.assets import fetch_pypi_artifact

    spec = sm.params.spec
    fetch_pypi_artifact(sm.wildcards.asset, spec["version"], spec["kind"], spec["sha256"], sm.output.pkg)
    print(f"{sm.wildcards.asset}=={spec['version']} ({spec['kind']}) verified: sha256 {spec['sha256']}")


run(snakemake, main)  # noqa: F821
