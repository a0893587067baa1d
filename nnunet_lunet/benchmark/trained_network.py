"""A trained model's network, rebuilt exactly as nnU-Net's predictor rebuilds it: now ``nnunet_lunet.trained_run``
(below both ``benchmark`` and ``deploy``); these names stay importable from here for the benchmark's modules."""

from nnunet_lunet.trained_run import (NetworkInput, fold_folder, label_names, load_predictor,  # noqa: F401
                                      network_input, trained_network)
