"""``nnunet-lunet compare``: a named set of models (a preset) trained on several folds with one recipe and one budget,
then benchmarked side by side; resumable, refusing bad input before anything is written.

Modules: ``presets`` (the rows of each preset: data), ``runs`` (one training: its folder, state and budget),
``plans`` (the comparison's width-variant plans), ``preprocessed`` (is a configuration's preprocessing complete),
``training`` (nnU-Net's console script in lanes), ``cluster`` and ``submissions`` (the same trainings as submitit
jobs on SLURM or this machine, their ids in ``compare.json``), ``locks`` and ``job_states`` (one lock per run, stale
only when its owner has ended), ``collect`` (small outputs for committing) and ``runner`` (the steps,
``run_compare``). Run names come from ``plans.run_names``. The demo is this on the shipped Hippocampus subset
(``nnunet_lunet.demo``).
"""
