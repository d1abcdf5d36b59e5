"""Logic of the hyperfitting reproduction pipeline (thin Snakemake scripts call into this)."""
