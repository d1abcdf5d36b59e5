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


# The LLM judge (hyperfit.judge) on the same pairs: per model and table that shows it (Table 1: the study's
# comparisons; Table 4: its Table 4 pairs and the original row), each pair in both orders; and, in Table 1's job,
# its sanity check on those pairs' human continuations against their own sentences shuffled.
rule get_judge_model:
    output:
        model=directory(P.JUDGE_MODEL),
        source=P.JUDGE_MODEL_SOURCE,
    params:
        spec={"source": "hub", "id": config["judge"]["model"], "revision": config["judge"]["revision"]},
        key="judge.model",
    log:
        "logs/resources/judge_model.log",
    benchmark:
        "benchmarks/resources/judge_model.tsv"
    resources:
        **sized("get_judge_model"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule judge_pairs:
    input:
        texts=lambda wildcards: runs_paths(S.judge_runs(config, wildcards.table, wildcards.model), "texts"),
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
        judge=S.judge_model_dir(config),
    output:
        table=P.JUDGE,
    params:
        runs=lambda wildcards: S.judge_runs(config, wildcards.table, wildcards.model),
        judge=config["judge"],
        name=judge_model(config),
        question=config["human"]["question"],
    wildcard_constraints:
        table=one_of([t for t in S.JUDGE_TABLES if t != "table1"]),  # Table 1's: judge_table1
    threads: JOB_THREADS
    resources:
        **sized("judge_pairs"),
        gpu=config["judge"]["gpus"],
    log:
        "logs/judge/{model}/{table}.log",
    benchmark:
        "benchmarks/judge/{model}/{table}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/judge_pairs.py"


# Table 1's pairs and the sanity check on their human continuations in one job: the judge loaded once per model
rule judge_table1:
    input:
        texts=lambda wildcards: runs_paths(S.judge_runs(config, "table1", wildcards.model), "texts"),
        tokens=rules.tokenize_data.output.tokens,
        tokenizer=get_base_model,
        judge=S.judge_model_dir(config),
    output:
        table=P.JUDGE.replace("{table}", "table1"),
        shuffled=P.JUDGE_SHUFFLED,
        summary=P.JUDGE_SHUFFLED_SUMMARY,
    params:
        runs=lambda wildcards: S.judge_runs(config, "table1", wildcards.model),
        judge=config["judge"],
        name=judge_model(config),
        question=config["human"]["question"],
        iterations=config["human"]["bootstrap_iterations"],
        seed=config["seed"],
    threads: JOB_THREADS
    resources:
        **sized("judge_table1"),
        gpu=config["judge"]["gpus"],
    log:
        "logs/judge/{model}/table1.log",
    benchmark:
        "benchmarks/judge/{model}/table1.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/judge_pairs.py"
