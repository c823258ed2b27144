"""Learning a dictionary from natural-image patches: settings, state, the seeded loop.

Each step draws a batch of patches from the whitened images, infers their sparse codes
(:func:`~v1lab.learn.sparse_coding.infer_fista` or
:func:`~v1lab.learn.sparse_coding.infer_lca`) and moves the basis functions by the
Hebbian rule (:func:`~v1lab.learn.sparse_coding.update_dictionary_hebbian`), with a
learning rate that decays as ``η0 / (1 + 4 i / n_batches)`` (large steps while the
fields form, small ones while they settle; Olshausen & Field 1997 also lowered theirs).

Reproducible and resumable: the starting dictionary and batch ``i``'s patches come from
generators seeded with ``(seed, 0)`` and ``(seed, 1, i)``, so a run stopped after any
batch and resumed from its :class:`LearnState` gives the same fields, to the bit, as one
that never stopped. The matrix products run on one BLAS thread: the matrices are small
(``n_basis`` ≤ a few hundred), and on this 2-core machine under load two OpenBLAS threads
made one FISTA batch 13× slower (measured 0.85 s against 0.063 s, 144 basis functions,
load 10); one thread also keeps the sums in one order, so the fields are the same on
every run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.learn.patches import sample_patches
from v1lab.learn.sparse_coding import (
    compute_sparse_objective,
    compute_step_size,
    infer_fista,
    infer_lca,
    make_unit_rows,
    update_dictionary_hebbian,
)

__all__ = [
    "INFERENCE",
    "LearnSettings",
    "LearnState",
    "infer_codes",
    "learn_dictionary",
    "learn_from_batches",
]

#: Inference methods (:mod:`v1lab.learn.sparse_coding`).
INFERENCE = ("fista", "lca")


@dataclass(frozen=True)
class LearnSettings:
    """What a learning run does; validated on construction (one-line errors).

    Attributes
    ----------
    patch_px : int
        Patch side (pixels). 12 by default: the learning and the Gabor fits cost grows
        with the pixels, and 12 × 12 fields fit the 60-s budget (16 works, slower).
    n_basis : int
        Basis functions (``n_basis / patch_px²`` is the overcompleteness; 1 by default).
    sparsity : float
        λ of the L1 cost, in units of the whitened pixels' SD (the images have unit
        variance): 1.0 leaves ~11 % of the units active per patch (measured).
    n_batches, batch_size : int
        Learning steps and patches per step.
    rate : float
        ``η0`` of the Hebbian rule (1 is the full block-coordinate step). 0.2 by
        default: natural patches are not exactly sparse in any dictionary, and a smaller
        step averages over batches (held-out objective after 400 batches, measured:
        27.4 at 0.2, 27.6 at 0.1, 28.0 at 0.5, 29.3 at 1.0).
    inference : {"fista", "lca"}
    n_iter : int
        FISTA iterations per batch.
    lca_tau_s, lca_dt_s, lca_duration_s : float
        The LCA network's time constant, Euler step and settling time (s).
    cutoff_cpp : float
        The whitening filter's roll-off ``f0`` (cycles/pixel).
    seed : int
    """

    patch_px: int = 12
    n_basis: int = 144
    sparsity: float = 1.0
    n_batches: int = 400
    batch_size: int = 256
    rate: float = 0.2
    inference: str = "fista"
    n_iter: int = 40
    lca_tau_s: float = 0.01
    lca_dt_s: float = 0.001
    lca_duration_s: float = 0.1
    cutoff_cpp: float = 0.4
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("patch_px", self.patch_px, lo=4, hi=64)
        check_int("n_basis", self.n_basis, lo=1, hi=4 * self.patch_px**2)
        check_number("sparsity", self.sparsity, lo=0, lo_open=True)
        check_int("n_batches", self.n_batches, lo=1, hi=10_000_000)
        check_int("batch_size", self.batch_size, lo=1, hi=100_000)
        check_number("rate", self.rate, lo=0, lo_open=True)
        check_choice("inference", self.inference, INFERENCE)
        check_int("n_iter", self.n_iter, lo=1, hi=100_000)
        check_number("lca_tau_s", self.lca_tau_s, lo=0, lo_open=True, unit="s")
        check_number("lca_dt_s", self.lca_dt_s, lo=0, hi=self.lca_tau_s, lo_open=True, unit="s")
        check_number("lca_duration_s", self.lca_duration_s, lo=self.lca_dt_s, unit="s")
        check_number("cutoff_cpp", self.cutoff_cpp, lo=0.05, hi=0.5, unit="cycles/pixel")
        check_int("seed", self.seed, lo=0, hi=2**32 - 1)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LearnSettings:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError("settings", unknown[0], f"expected one of {sorted(names)}")
        return cls(**data)


@dataclass
class LearnState:
    """Where a learning run stands: enough to resume it exactly.

    Attributes
    ----------
    settings : LearnSettings
    dictionary : ndarray (n_basis, patch_px²) float32
        Unit-norm rows: the learned fields.
    batch : int
        Batches done.
    objective : ndarray (batch,)
        Each batch's mean objective ``½‖x − aD‖² + λ‖a‖₁`` at inference, before that
        batch's update.
    """

    settings: LearnSettings
    dictionary: np.ndarray
    batch: int = 0
    objective: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def start(cls, settings: LearnSettings) -> LearnState:
        """Random unit-norm fields from the generator seeded ``(seed, 0)``."""
        rng = np.random.default_rng([settings.seed, 0])
        d = rng.standard_normal((settings.n_basis, settings.patch_px**2))
        return cls(settings, make_unit_rows(d).astype(np.float32))

    @property
    def done(self) -> bool:
        return self.batch >= self.settings.n_batches


def infer_codes(patches: Any, dictionary: Any, settings: LearnSettings) -> np.ndarray:
    """Sparse codes of ``patches`` by the inference ``settings`` names."""
    if settings.inference == "lca":
        return infer_lca(
            patches, dictionary, settings.sparsity, tau_s=settings.lca_tau_s,
            dt_s=settings.lca_dt_s, duration_s=settings.lca_duration_s,
        )  # fmt: skip
    step = compute_step_size(dictionary)
    return infer_fista(patches, dictionary, settings.sparsity, n_iter=settings.n_iter, step=step)


def learn_dictionary(
    images: Sequence[np.ndarray],
    state: LearnState,
    *,
    until: int | None = None,
    progress: Callable[[LearnState], None] | None = None,
    every: int = 10,
) -> LearnState:
    """Run the learning loop on patches of whitened ``images`` from ``state``.

    Batch ``i`` is ``batch_size`` patches drawn with the generator seeded
    ``(seed, 1, i)`` (:func:`~v1lab.learn.patches.sample_patches`); the rest is
    :func:`learn_from_batches`.

    Parameters
    ----------
    images : sequence of ndarray
        Whitened images (:func:`v1lab.learn.whitening.compute_whitened`).
    state : LearnState
        Where to start (:meth:`LearnState.start`, or a saved one to resume).
    until, progress, every
        As :func:`learn_from_batches`.
    """
    s = state.settings

    def batch(i: int) -> np.ndarray:
        rng = np.random.default_rng([s.seed, 1, i])
        return sample_patches(images, s.batch_size, s.patch_px, rng)

    return learn_from_batches(batch, state, until=until, progress=progress, every=every)


def learn_from_batches(
    batch: Callable[[int], np.ndarray],
    state: LearnState,
    *,
    until: int | None = None,
    progress: Callable[[LearnState], None] | None = None,
    every: int = 10,
) -> LearnState:
    """The learning loop: infer the codes of batch ``i``, take a Hebbian step; a new state.

    Parameters
    ----------
    batch : callable
        ``batch(i)`` returns batch ``i``'s patches, (batch_size, patch_px²); it must
        depend on ``i`` alone for a resumed run to match an uninterrupted one.
    state : LearnState
    until : int, optional
        Stop after this many batches in all (default: ``settings.n_batches``).
    progress : callable, optional
        Called with the state every ``every`` batches and at the end (a progress bar; a
        checkpoint writer).
    """
    from threadpoolctl import threadpool_limits

    s = state.settings
    stop = s.n_batches if until is None else min(check_int("until", until, lo=0), s.n_batches)
    d = state.dictionary.astype(np.float32, copy=True)
    curve = list(state.objective)
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(state.batch, stop):
            x = np.asarray(batch(i), dtype=np.float32)
            a = infer_codes(x, d, s)
            curve.append(compute_sparse_objective(x, d, a, s.sparsity))
            d = update_dictionary_hebbian(d, x, a, s.rate / (1.0 + 4.0 * i / s.n_batches))
            if progress is not None and ((i + 1) % every == 0 or i + 1 == stop):
                progress(LearnState(s, d, i + 1, np.asarray(curve)))
    return LearnState(s, d, max(stop, state.batch), np.asarray(curve))
