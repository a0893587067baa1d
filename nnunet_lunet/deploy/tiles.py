"""The sliding window's tile size (``predict --tile-size``, ``bench_runtimes.py --tile-sizes``).

nnU-Net tiles every image at the training patch size, with a step of half a tile, so each voxel is evaluated several
times (about 7.5 times on a 141x144x123 volume in 40x56x40 tiles). A thin network's activations are small enough for
far larger tiles, which cost fewer passes for the same volume.

Rules:

- A tile size is one value for every spatial axis or one value per axis, each an absolute size in voxels (``80``) or
  a multiple of the training patch (``2x``, ``1.5x``); ``parse_tile_size`` reads the strings, ``resolve_tile`` turns
  them into voxels. No tile size (``None``): the training patch, i.e. nnU-Net's own prediction.
- Every axis must come out a whole, positive number of voxels that is a multiple of the network's total stride on
  that axis (``spatial_divisor``, in ``export.json``); anything else is one ``LUnetError`` naming the nearest valid
  sizes.
- The tile step (``--step-size``) stays nnU-Net's fraction of the tile.
- nnU-Net pads an image smaller than the tile up to the tile. At the training patch size that is nnU-Net's own
  behaviour and is kept; beyond it the padding is wasted work that also changes the normalisation statistics of every
  tile, so a tile larger than both the training patch and a case's preprocessed image on some axis is refused
  (``check_fits``). The preprocessed shape is known only at the case, so the refusal comes there (``predict`` writes
  into a staging folder: nothing reaches ``-o``).
- ``tiled_configuration``: nnU-Net's configuration manager with its patch size replaced by the tile, which is all
  nnU-Net's predictor reads of it for the sliding window (the tiles' positions, the Gaussian weighting, the padding).
- InstanceNorm normalises over the tile, so a larger tile computes slightly different logits than the training patch:
  only the training patch reproduces nnU-Net's prediction exactly.
"""

from typing import Optional, Sequence, Tuple

from nnunet_lunet.errors import LUnetError

Tile = Tuple[int, ...]
FLAG = "--tile-size"


def _fmt(sizes: Sequence) -> str:
    return "x".join(str(s) for s in sizes)


def parse_tile_size(values: Sequence[str]) -> Tuple[Tuple[float, bool], ...]:
    """``((value, is_multiple), ...)`` of the option's strings (``80``, ``2x``); LUnetError on anything else."""
    parsed = []
    for text in values:
        multiple = text.lower().endswith("x")
        try:
            value = float(text[:-1]) if multiple else int(text)
        except ValueError:
            raise LUnetError(f"{FLAG} {' '.join(values)}: {text!r} is neither a size in voxels (e.g. 80) nor a "
                             f"multiple of the training patch (e.g. 2x)") from None
        if not value > 0:
            raise LUnetError(f"{FLAG} {' '.join(values)}: {text} gives no tile; give sizes above 0 (e.g. 80) or "
                             f"multiples above 0 of the training patch (e.g. 2x)")
        parsed.append((value, multiple))
    return tuple(parsed)


def _nearest(size: float, divisor: int) -> str:
    below, above = int(size // divisor) * divisor, (int(size // divisor) + 1) * divisor
    return f"{above}" if below == 0 else f"{below} or {above}"


def resolve_tile(values: Optional[Sequence[str]], patch_size: Sequence[int], divisor: Sequence[int]) -> Tile:
    """The tile in voxels per spatial axis (module rules); ``values`` None: the training patch."""
    patch = tuple(int(p) for p in patch_size)
    if values is None:
        return patch
    parsed = parse_tile_size(values)
    if len(parsed) == 1:
        parsed = parsed * len(patch)
    if len(parsed) != len(patch):
        raise LUnetError(f"{FLAG} {' '.join(values)}: give one value or {len(patch)} (one per spatial axis of the "
                         f"training patch {_fmt(patch)})")
    tile = []
    for axis, ((value, multiple), p, d) in enumerate(zip(parsed, patch, divisor)):
        size = round(value * p, 6) if multiple else value  # 1.1 x 40 is 44, not 44.00000000000001
        what = f"{value:g}x the training patch's {p} is {size:g} voxels" if multiple else f"{int(value)} voxels"
        if size != int(size):
            raise LUnetError(f"{FLAG} {' '.join(values)}: on axis {axis} {what}, not a whole number: give a size in "
                             f"voxels, {_nearest(size, d)} (a multiple of the network's stride {d})")
        if int(size) % int(d):
            raise LUnetError(f"{FLAG} {' '.join(values)}: on axis {axis} {what}, not a multiple of {d}, the "
                             f"network's total stride on that axis: give {_nearest(size, d)}")
        tile.append(int(size))
    return tuple(tile)


def check_fits(tile: Sequence[int], patch_size: Sequence[int], image_shape: Sequence[int]) -> None:
    """LUnetError when ``tile`` is larger than both the training patch and the preprocessed image (spatial shape;
    a 2D configuration's volume has one axis more, sliced) on some axis (module rules)."""
    image = list(image_shape)[len(image_shape) - len(tile):]
    too_large = [a for a, (t, p, s) in enumerate(zip(tile, patch_size, image)) if t > max(p, s)]
    if too_large:
        most = [max(p, s) for p, s in zip(patch_size, image)]
        raise LUnetError(f"{FLAG} {_fmt(tile)} is larger than a case's preprocessed image {_fmt(image)} on axis "
                         f"{', '.join(map(str, too_large))} (and than the training patch {_fmt(patch_size)}): give at "
                         f"most {_fmt(most)} for that case, or leave out {FLAG} (nnU-Net's tile, the training patch); "
                         f"nothing was written")


def tiled_configuration(configuration_manager, tile: Sequence[int]):
    """``configuration_manager`` (nnU-Net's) itself when ``tile`` is its patch size, else a copy whose patch size is
    ``tile``."""
    from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager

    if list(tile) == list(configuration_manager.patch_size):
        return configuration_manager
    return ConfigurationManager(dict(configuration_manager.configuration, patch_size=[int(t) for t in tile]))


def tile_text(tile: Sequence[int]) -> str:
    return _fmt(tile)
