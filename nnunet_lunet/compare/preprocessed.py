"""Whether nnU-Net's preprocessing of a configuration is complete, judged from every case, not from one file.

nnU-Net writes ``nnUNetPlans.json`` before it preprocesses, removes the configuration's data folder and writes it case
by case (each case's ``.pkl`` last), and copies the labels to ``gt_segmentations`` at the very end. So the
preprocessing of a configuration is complete when every training case of ``dataset.json`` (``numTraining``) has its
``.pkl`` in the data folder and its label in ``gt_segmentations``.
"""

import json
import os
from typing import Optional

from nnunet_lunet.datasets import resolved_configuration


def incomplete_reason(preprocessed: str, plans: dict, configuration: str) -> Optional[str]:
    """None when complete; else what is missing, in a few words. ``preprocessed``: the dataset's folder in
    ``nnUNet_preprocessed``."""
    try:
        with open(os.path.join(preprocessed, "dataset.json")) as f:
            cases = int(json.load(f)["numTraining"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{os.path.join(preprocessed, 'dataset.json')} is missing or unreadable"
    data = os.path.join(preprocessed, resolved_configuration(plans, configuration)["data_identifier"])
    done = len([n for n in os.listdir(data) if n.endswith(".pkl")]) if os.path.isdir(data) else 0
    if done < cases:
        return f"{data} holds {done} of {cases} preprocessed cases"
    labels = os.path.join(preprocessed, "gt_segmentations")
    copied = len(os.listdir(labels)) if os.path.isdir(labels) else 0
    if copied < cases:
        return f"{labels} holds {copied} of {cases} labels"
    return None
