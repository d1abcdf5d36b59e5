rule make_human_packets:
    input:
        generations=[g["path"] for g in human_generations()],
        tokens=expand("results/data/{model}/tokens.json", model=MODELS),
        tokenizers=[base_model_dir(model) for model in MODELS],
    output:
        key="results/human/key.tsv",
        html=expand("results/human/packets/rater{rater}.html", rater=RATERS),
        csv=expand("results/human/packets/rater{rater}.csv", rater=RATERS),
    params:
        generations=human_generations(),
        models=MODELS,
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        question=config["human"]["question"],
        seed=config["seed"],
    log:
        "logs/human/packets.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_human_packets.py"


rule summarize_human_ratings:
    input:
        key=rules.make_human_packets.output.key,
        annotations=human_annotation_files(),
    output:
        tsv="results/human/preference.tsv",
        md="results/human/preference.md",
    params:
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        iterations=config["human"]["bootstrap_iterations"],
        seed=config["seed"],
    log:
        "logs/human/preference.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/summarize_human_ratings.py"
