# Figure 6: hyperfitting an autoregressive image model (ImageGPT), then greedy completion of held-out images
# from their top rows. image.source digits: the offline small-scale stand-in (a small ImageGPT pretrained
# here on scikit-learn's digits); hub: a pretrained ImageGPT (openai/imagegpt-large) and CIFAR-10.


rule get_image_model:
    output:
        model=directory(P.MODEL.format(model=IMAGE_NAME)),
        source=P.MODEL_SOURCE.format(model=IMAGE_NAME),
    params:
        spec={"source": "hub", **config["image"]["model"]},
        key="image.model",
    log:
        f"logs/resources/model_{IMAGE_NAME}.log",
    benchmark:
        f"benchmarks/resources/model_{IMAGE_NAME}.tsv"
    resources:
        **sized("get_image_model"),
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule tokenize_images:
    input:
        unpack(get_image_data_inputs),
    output:
        images=P.IMAGE_DATA.format(image=IMAGE_NAME),
        source=P.IMAGE_DATA_SOURCE.format(image=IMAGE_NAME),
    params:
        image=config["image"],
        seed=config["seed"],
    log:
        f"logs/data/images_{IMAGE_NAME}.log",
    benchmark:
        f"benchmarks/data/images_{IMAGE_NAME}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/tokenize_images.py"


rule pretrain_image_model:
    input:
        images=rules.tokenize_images.output.images,
    output:
        model=directory(P.run_file(IMAGE_PRETRAINED, P.RUN_WEIGHTS)),
        history=P.run_file(IMAGE_PRETRAINED, P.RUN_HISTORY),
    params:
        architecture=config["image"]["architecture"],
        settings={**config["image"]["hyperfit"], **config["image"]["pretrain"]},
        seed=config["seed"],
        checkpoints=P.CHECKPOINTS.format(model=IMAGE_NAME, setting="pretrained"),
    threads: image_threads()
    resources:
        **sized("pretrain_image_model"),
    log:
        f"logs/train/{IMAGE_NAME}/pretrained.log",
    benchmark:
        f"benchmarks/train/{IMAGE_NAME}/pretrained.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/pretrain_image_model.py"


rule hyperfit_image_model:
    input:
        images=rules.tokenize_images.output.images,
        model=get_image_base_model(),
    output:
        model=directory(P.run_file(IMAGE_HYPERFITTED, P.RUN_WEIGHTS)),
        history=P.run_file(IMAGE_HYPERFITTED, P.RUN_HISTORY),
    params:
        settings=config["image"]["hyperfit"],
        seed=config["seed"],
        checkpoints=P.CHECKPOINTS.format(model=IMAGE_NAME, setting=S.MAIN),
    threads: image_threads()
    resources:
        **sized("hyperfit_image_model"),
        gpu=1,
    log:
        f"logs/train/{IMAGE_NAME}/hyperfitted.log",
    benchmark:
        f"benchmarks/train/{IMAGE_NAME}/hyperfitted.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/hyperfit_image_model.py"


rule complete_images:
    input:
        images=rules.tokenize_images.output.images,
        model=get_image_weights,
    output:
        completions=P.IMAGE_COMPLETIONS.replace("{image}", IMAGE_NAME),
    params:
        batch_size=config["image"]["generation_batch_size"],
        dtype=config["image"]["model"]["dtype"],
    threads: image_threads()
    resources:
        **sized("complete_images"),
        gpu=1,
    log:
        f"logs/eval/{IMAGE_NAME}/{{setting}}/completions.log",
    benchmark:
        f"benchmarks/eval/{IMAGE_NAME}/{{setting}}/completions.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/complete_images.py"


rule make_image_repetition:
    input:
        images=rules.tokenize_images.output.images,
        completions=expand(rules.complete_images.output.completions, setting=VARIANTS),
        sources=IMAGE_SOURCES,  # hub commits, named in the .md notes
    output:
        tsv=report(P.table("image_repetition"), caption="../report/image_repetition.rst", category="Tables"),
        md=P.table_md("image_repetition"),
    params:
        name=IMAGE_NAME,
        variants=VARIANTS,
    log:
        "logs/tables/image_repetition.log",
    benchmark:
        "benchmarks/tables/image_repetition.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_image_repetition.py"


rule plot_figure6:
    input:
        images=rules.tokenize_images.output.images,
        completions=rules.make_image_repetition.input.completions,
    output:
        pdf=report(P.figure("figure6")["pdf"], caption="../report/figure6.rst", category="Figures"),
        png=P.figure("figure6")["png"],
    params:
        variants=VARIANTS,
        figure_images=config["image"]["figure_images"],
    log:
        "logs/figures/figure6.log",
    benchmark:
        "benchmarks/figures/figure6.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure6.py"
