# The plan, written down: the settings table (one row per model x setting: what it trains on, its training
# values, the experiments and targets that read it, whether early-stopped weights are kept) and every file each
# target reads. The rules read the same plan (PLAN in rules/common.smk); this job only writes it for users.


rule write_plan:
    output:
        settings=P.PLAN_SETTINGS,
        runs=P.PLAN_RUNS,
    params:
        settings=PLAN.settings_frame().to_dict("records"),
        runs=PLAN.runs_frame().to_dict("records"),
    log:
        "logs/plan/write_plan.log",
    conda:
        "../envs/main.yaml"
    script:
        "../workflow/scripts/write_plan.py"
