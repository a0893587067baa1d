"""Names of the plans files the package writes beside a source plans file (``<source>`` e.g. ``nnUNetPlans``).

- ``<source>_compare`` / ``<source>_compare_b<B>`` (``nnunet-lunet compare``, ``--batch-size B``): a copy of the
  source plans with the comparison's width variants added; its source configurations are the source's (at batch size
  ``B`` with ``_b<B>``), so its default network is the source plans' default network.
"""

import re
from typing import Optional

COMPARE_SUFFIX = "_compare"


def compare_plans_name(source: str, batch_size: Optional[int] = None) -> str:
    return source + COMPARE_SUFFIX + (f"_b{batch_size}" if batch_size is not None else "")


def holds_source_network(plans: str, source: str) -> bool:
    """True for ``source`` itself and for a plans file whose source configurations are ``source``'s networks
    (``compare_plans_name(source, B)``)."""
    return re.fullmatch(re.escape(compare_plans_name(source)) + r"(_b\d+)?", plans) is not None or plans == source
