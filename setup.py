"""Only here to put ``nnunet_lunet_trainers.pth`` at the root of the wheel (site-packages), which pyproject.toml
alone cannot express with setuptools. The .pth registers the trainer folder with nnU-Net at interpreter start;
see nnunet_lunet/ext_trainer_path.py."""

import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

PTH = "nnunet_lunet_trainers.pth"


class build_py_with_pth(build_py):
    def run(self):
        super().run()
        self.copy_file(PTH, os.path.join(self.build_lib, PTH))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH)]


# The repository keeps nnU-Net-facing code in top-level trainers/ and plans/ (the design's layout); installed, they
# are subpackages of nnunet_lunet (pyproject's package-dir) so that a wheel carries them and they cannot clash with
# other top-level names.
setup(
    packages=find_packages(include=["nnunet_lunet", "nnunet_lunet.*"]) + ["nnunet_lunet.trainers", "nnunet_lunet.plans"],
    cmdclass={"build_py": build_py_with_pth},
)
