# The human preference study (the paper's Tables 1 and 4): blind rater packets of model vs human continuations,
# and their results once rater files are given (human.annotations).


rule make_human_packets:
    input:
        texts=runs_paths(RUNS["human"], "texts"),
        tokens=expand(rules.tokenize_data.output.tokens, model=MODELS),
        tokenizers=[S.base_model_dir(config, model) for model in MODELS],
    output:
        key=P.HUMAN_KEY,
        html=expand(P.HUMAN_PACKET_HTML, rater=RATERS),
        csv=expand(P.HUMAN_PACKET_CSV, rater=RATERS),
    params:
        runs=RUNS["human"],
        models=MODELS,
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        question=config["human"]["question"],
        seed=config["seed"],
    log:
        "logs/human/packets.log",
    benchmark:
        "benchmarks/human/packets.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_human_packets.py"


rule summarize_human_ratings:
    input:
        key=rules.make_human_packets.output.key,
        annotations=get_annotation_files(),
        sources=TEXT_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=P.HUMAN_PREFERENCE,
        md=P.HUMAN_PREFERENCE_MD,
    params:
        raters=config["human"]["raters"],
        ratings_per_pair=config["human"]["ratings_per_pair"],
        iterations=config["human"]["bootstrap_iterations"],
        seed=config["seed"],
    log:
        "logs/human/preference.log",
    benchmark:
        "benchmarks/human/preference.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/summarize_human_ratings.py"
