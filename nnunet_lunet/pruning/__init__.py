"""Progressive channel pruning of nnU-Net's PlainConvUNet and ResidualEncoderUNet (STAMP-style and baselines).

Modules, each about one thing:

- ``prunable_layer``: what a prunable layer is (one conv, or a residual group of tied convs), and the decoder both
  U-Nets share.
- ``layer_widths``: a (pruned) net described as data: the prunable layers, their widths as a JSON-able dict.
- ``residual_layers``: the same for a ResidualEncoderUNet: its residual groups, layers and widths dict.
- ``network``: ``PrunedPlainConvUNet``, a PlainConvUNet built at, and loading checkpoints of, any layer widths, and
  the resizing and checkpoint loading both pruned U-Nets use.
- ``residual_network``: ``PrunedResidualEncoderUNet``, the same for a ResidualEncoderUNet.
- ``surgery``: physical removal of output channels and of every tensor coupled to them (optimizer state included).
- ``activations``: STAMP's activation scores, collected with forward hooks.
- ``criteria``: which channels to remove (``get_criterion(name)``).
- ``schedule``: when and how much to prune.
- ``targeted_dropout``: STAMP's per-layer channel dropout.
- ``distributed``: making every rank take the same decision.

Pruning decisions are plain data: ``{layer name: [channel indices to remove]}``.

Nothing is imported here, so importing one module does not pull in the others (torch-pruning is only loaded by
``surgery``).
"""
