"""Lean U-Net (LUnet) for nnU-Net v2: constant-width networks, width-variant plans, channel pruning, benchmarks.

This module is imported at every interpreter start through ``nnunet_lunet_trainers.pth`` (see
``ext_trainer_path``), so it must stay free of heavy imports (no torch, no nnunetv2).
"""

__version__ = "0.1.0"
