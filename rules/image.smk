# Figure 6: hyperfitting an autoregressive image model (ImageGPT), then greedy completion of held-out images
# from their top rows. image.source digits: the offline small-scale stand-in (a small ImageGPT pretrained
# here on scikit-learn's digits); hub: a pretrained ImageGPT (openai/imagegpt-large) and CIFAR-10.


rule get_image_model:
    output:
        model=directory(f"resources/models/{IMAGE_NAME}"),
    params:
        spec={"source": "hub", **config["image"]["model"]},
    log:
        f"logs/resources/model_{IMAGE_NAME}.log",
    benchmark:
        f"benchmarks/resources/model_{IMAGE_NAME}.tsv"
    resources:
        mem_mb=4000,
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/get_model.py"


rule tokenize_images:
    input:
        unpack(image_data_inputs),
    output:
        images=f"results/data/{IMAGE_NAME}/images.json",
    params:
        image=config["image"],
        seed=config["seed"],
    log:
        f"logs/data/images_{IMAGE_NAME}.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/tokenize_images.py"


rule pretrain_image_model:
    input:
        images=rules.tokenize_images.output.images,
    output:
        model=directory(f"results/pretrain/{IMAGE_NAME}/model"),
        history=f"results/pretrain/{IMAGE_NAME}/history.tsv",
    params:
        architecture=config["image"]["architecture"],
        settings={**config["image"]["hyperfit"], **config["image"]["pretrain"]},
        seed=config["seed"],
        checkpoints=f"results/checkpoints/pretrain/{IMAGE_NAME}",
    threads: image_threads()
    resources:
        mem_mb=config["image"]["mem_mb"],
    log:
        f"logs/pretrain/{IMAGE_NAME}.log",
    benchmark:
        f"benchmarks/pretrain/{IMAGE_NAME}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/pretrain_image_model.py"


rule hyperfit_image_model:
    input:
        images=rules.tokenize_images.output.images,
        model=image_base_model(),
    output:
        model=directory(f"results/hyperfit/{IMAGE_NAME}/model"),
        history=f"results/hyperfit/{IMAGE_NAME}/history.tsv",
    params:
        settings=config["image"]["hyperfit"],
        seed=config["seed"],
        checkpoints=f"results/checkpoints/hyperfit/{IMAGE_NAME}",
    threads: image_threads()
    resources:
        mem_mb=config["image"]["mem_mb"],
        gpu=1,
    log:
        f"logs/hyperfit/{IMAGE_NAME}.log",
    benchmark:
        f"benchmarks/hyperfit/{IMAGE_NAME}.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/hyperfit_image_model.py"


rule complete_images:
    input:
        images=rules.tokenize_images.output.images,
        model=image_variant_model,
    output:
        completions=f"results/generate/{IMAGE_NAME}/{{variant}}/completions.jsonl",
    params:
        batch_size=config["image"]["generation_batch_size"],
        dtype=config["image"]["model"]["dtype"],
    threads: image_threads()
    resources:
        mem_mb=config["image"]["mem_mb"],
        gpu=1,
    log:
        f"logs/generate/{IMAGE_NAME}/{{variant}}/completions.log",
    benchmark:
        f"benchmarks/generate/{IMAGE_NAME}/{{variant}}/completions.tsv"
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/complete_images.py"


rule make_image_repetition:
    input:
        images=rules.tokenize_images.output.images,
        completions=expand(rules.complete_images.output.completions, variant=VARIANTS),
    output:
        tsv=report("results/tables/image_repetition.tsv", caption="../report/image_repetition.rst", category="Tables"),
        md="results/tables/image_repetition.md",
    params:
        name=IMAGE_NAME,
        variants=VARIANTS,
    log:
        "logs/tables/image_repetition.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/make_image_repetition.py"


rule plot_figure6:
    input:
        images=rules.tokenize_images.output.images,
        completions=rules.make_image_repetition.input.completions,
    output:
        pdf=report("results/figures/figure6.pdf", caption="../report/figure6.rst", category="Figures"),
        png="results/figures/figure6.png",
    params:
        variants=VARIANTS,
        figure_images=config["image"]["figure_images"],
    log:
        "logs/figures/figure6.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/plot_figure6.py"
