"""``nnunet-lunet compare``: a named set of models (a preset) trained on several folds with one recipe and one budget,
then benchmarked side by side; resumable, refusing bad input before anything is written.

Modules: ``presets`` (the rows of each preset: data), ``runs`` (one training: its folder, state and budget),
``plans`` (the comparison's width-variant plans), ``preprocessed`` (is a configuration's preprocessing complete),
``training`` (nnU-Net's console script in lanes), ``collect`` (small outputs for committing) and ``runner`` (the
steps, ``run_compare``). The demo is this on the shipped Hippocampus subset (``nnunet_lunet.demo``).
"""
