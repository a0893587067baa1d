"""Make nnU-Net find this package's trainers (``nnUNetv2_train ... -tr nnUNetTrainerLUnet``) without any setup step.

nnU-Net 2.8 looks for trainers outside its own tree only in the folders named in the ``nnUNet_extTrainer``
environment variable (``os.pathsep``-separated). It imports every module of such a folder as a *top-level* module and
purges them from ``sys.modules`` afterwards, so the folder we add, ``ext_trainers/``, holds a single uniquely named
module that re-exports the package's trainer classes: the class nnU-Net gets is the package's own.

The wheel installs ``nnunet_lunet_trainers.pth`` into site-packages; Python runs its ``import`` line at every
interpreter start, which calls :func:`register`. Cost: this module only (no torch). Limits (see README):
- ``python -S`` or an interpreter that does not process site-packages ``.pth`` files skips it;
- PEP 829 phases out ``import`` lines in ``.pth`` files (around Python 3.18);
- editable installs may not install the ``.pth`` file.
In those cases run ``export nnUNet_extTrainer=$(python -m nnunet_lunet.ext_trainer_path)`` once per shell.
"""

import os

ENV_VAR = "nnUNet_extTrainer"


def folder() -> str:
    """The folder to list in ``nnUNet_extTrainer``."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "ext_trainers")


def register(environ=os.environ) -> None:
    """Append :func:`folder` to ``nnUNet_extTrainer`` unless it is already listed; a user's own folders stay first."""
    ours = folder()
    current = [p for p in environ.get(ENV_VAR, "").split(os.pathsep) if p]
    if ours not in current:
        environ[ENV_VAR] = os.pathsep.join(current + [ours])


if __name__ == "__main__":
    # `export nnUNet_extTrainer=$(python -m nnunet_lunet.ext_trainer_path)` keeps a user's own folders.
    register()
    print(os.environ[ENV_VAR])
