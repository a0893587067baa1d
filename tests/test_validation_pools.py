"""``NNUNET_LUNET_VAL_THREADS=1``: nnU-Net's final validation pools (segmentation export, Dice) become thread pools in
the training process, only while the validation runs; unset, nnU-Net's spawn pools are left alone. (Every end-to-end
training of the suite runs its final validation this way and checks its ``summary.json``.)"""

import multiprocessing
from multiprocessing.pool import ThreadPool

from nnunetv2.evaluation import evaluate_predictions
from nnunetv2.training.nnUNetTrainer import nnUNetTrainer as trainer_module
from nnunetv2.utilities.file_path_utilities import check_workers_alive_and_busy

from nnunet_lunet.trainers.validation_pools import THREADS_VARIABLE, validation_pools


def _square(x):
    return x * x


def test_validation_pools_are_threads_only_when_asked_and_only_within_the_block(monkeypatch):
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    with validation_pools():
        for module in (trainer_module, evaluate_predictions):
            with module.multiprocessing.get_context("spawn").Pool(1) as pool:
                assert isinstance(pool, ThreadPool)
                results = [pool.starmap_async(_square, ((3,),))]
                # what nnU-Net's validation loop asks of its export pool
                assert check_workers_alive_and_busy(pool, list(pool._pool), results, allowed_num_queued=2) is False
                assert [r.get() for r in results] == [[9]] and pool.starmap(_square, [(2,), (4,)]) == [4, 16]
    assert trainer_module.multiprocessing is multiprocessing and evaluate_predictions.multiprocessing is multiprocessing

    monkeypatch.delenv(THREADS_VARIABLE)
    with validation_pools():
        assert trainer_module.multiprocessing is multiprocessing
        assert evaluate_predictions.multiprocessing is multiprocessing
