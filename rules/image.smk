# Figure 6: hyperfitting an autoregressive image model (ImageGPT), then greedy completion of held-out images
# from their top rows. image.source digits: the offline small-scale stand-in (a small ImageGPT pretrained
# here on scikit-learn's digits); hub: a pretrained ImageGPT (openai/imagegpt-large) and CIFAR-10.


rule get_image_model:
    output:
        model=directory(f"resources/models/{IMAGE_NAME}"),
        source=f"resources/models/{IMAGE_NAME}.source.json",
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
        images=f"results/data/{IMAGE_NAME}/images.json",
        source=f"results/data/{IMAGE_NAME}/images.source.json",
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
        model=directory(f"results/train/{IMAGE_NAME}/pretrained/model"),
        history=f"results/train/{IMAGE_NAME}/pretrained/history.tsv",
    params:
        architecture=config["image"]["architecture"],
        settings={**config["image"]["hyperfit"], **config["image"]["pretrain"]},
        seed=config["seed"],
        checkpoints=f"results/checkpoints/{IMAGE_NAME}/pretrained",
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
        model=directory(f"results/train/{IMAGE_NAME}/hyperfitted/model"),
        history=f"results/train/{IMAGE_NAME}/hyperfitted/history.tsv",
    params:
        settings=config["image"]["hyperfit"],
        seed=config["seed"],
        checkpoints=f"results/checkpoints/{IMAGE_NAME}/hyperfitted",
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
        completions=f"results/eval/{IMAGE_NAME}/{{setting}}/model/completions.jsonl",
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
