"""The one module nnU-Net imports from the ``nnUNet_extTrainer`` folder: re-exports the package's trainers.

Its name is unique on purpose: nnU-Net imports it as a top-level module (see ``nnunet_lunet.ext_trainer_path``).
"""

from nnunet_lunet.trainers import *  # noqa: F401,F403
from nnunet_lunet.trainers import __all__  # noqa: F401
