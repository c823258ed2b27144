"""Sparse coding against scikit-learn's MiniBatchDictionaryLearning, same patches, same objective.

Both learn ``n_basis`` unit-norm basis functions from the same stream of whitened
natural-image patches (batch ``i`` = the patches ``v1lab learn`` draws for batch ``i``,
:func:`v1lab.learn.learning.learn_dictionary`) and minimise the same objective,
``½‖x − aD‖² + λ‖a‖₁`` per patch (scikit-learn's ``alpha`` = λ). Every ``--every``
batches each dictionary is scored on one held-out set of patches with the same encoder
(FISTA to convergence, 300 iterations), outside the timed part, so the two curves are the
same measure of the dictionary against the learning time spent on it.

The speed figure: the objective scikit-learn has reached at the end of its run is the
target; the time each method first reaches it (the first evaluation at or below it) is
compared, in wall-clock and in CPU time of the process (all its threads; the shared
cores' load from other sessions moves the wall clock far more). Exit status 1 if v1lab is
less than 3× faster in CPU time or never reaches it.

    python benchmarks/learn.py [--batches 400] [--every 25] [--figure objective.png]

scikit-learn runs with its defaults (``fit_algorithm="lars"``) and its own BLAS threads,
and separately on one BLAS thread as v1lab's loop runs; the faster of the two is the one
compared.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from _util import blas_report, table, use_checkout

use_checkout()

from threadpoolctl import threadpool_limits  # noqa: E402

from v1lab.learn import (  # noqa: E402
    DEFAULT_IMAGES,
    LearnSettings,
    LearnState,
    compute_sparse_objective,
    compute_whitened,
    infer_fista,
    learn_from_batches,
    load_natural_images,
    make_unit_rows,
    sample_patches,
)


def score(dictionary: np.ndarray, held_out: np.ndarray, lam: float) -> float:
    d = make_unit_rows(np.asarray(dictionary, dtype=np.float64))
    with threadpool_limits(limits=1, user_api="blas"):
        a = infer_fista(held_out, d, lam, n_iter=300)
    return compute_sparse_objective(held_out, d, a, lam)


def clock():
    """(wall, CPU) seconds: CPU time of this process, all threads (less sensitive to other
    sessions' load on the shared cores than the wall clock)."""
    return np.array([time.perf_counter(), time.process_time()])


def run_v1lab(settings, batch, held_out, every):
    times, values, spent = [np.zeros(2)], [], np.zeros(2)
    state = LearnState.start(settings)
    values.append(score(state.dictionary, held_out, settings.sparsity))
    while not state.done:
        tic = clock()
        state = learn_from_batches(batch, state, until=state.batch + every)
        spent = spent + clock() - tic
        times.append(spent)
        values.append(score(state.dictionary, held_out, settings.sparsity))
        print(f"  v1lab batch {state.batch}: {values[-1]:.3f} at {spent[1]:.1f} s CPU", flush=True)
    return np.array(times), np.array(values)


def run_sklearn(settings, batch, held_out, every, threads):
    from sklearn.decomposition import MiniBatchDictionaryLearning
    from sklearn.exceptions import ConvergenceWarning

    model = MiniBatchDictionaryLearning(
        n_components=settings.n_basis, alpha=settings.sparsity, batch_size=settings.batch_size,
        random_state=settings.seed,
    )  # fmt: skip
    times, values, spent = [], [], np.zeros(2)
    limit = threadpool_limits(limits=threads) if threads else threadpool_limits(limits=None)
    with limit, warnings.catch_warnings():
        # Its per-patch coordinate descent warns of duality gaps ~1e-5 (harmless here).
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(settings.n_batches):
            x = batch(i)
            tic = clock()
            model.partial_fit(x)
            spent = spent + clock() - tic
            if (i + 1) % every == 0:
                times.append(spent)
                values.append(score(model.components_, held_out, settings.sparsity))
                print(f"  sklearn ({threads or 'default'} threads) batch {i + 1}: "
                      f"{values[-1]:.3f} at {spent[1]:.1f} s CPU", flush=True)  # fmt: skip
    return np.array(times), np.array(values)


def first_time_at(times, values, target):
    hit = np.flatnonzero(values <= target)
    return float(times[hit[0]]) if hit.size else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--figure", help="write both objective curves to this PNG")
    args = parser.parse_args()
    for line in blas_report():
        print(line)
    settings = LearnSettings(n_batches=args.batches)
    images = [compute_whitened(im, cutoff_cpp=settings.cutoff_cpp) for im in
              load_natural_images(DEFAULT_IMAGES)]  # fmt: skip
    held_out = sample_patches(images, 4000, settings.patch_px, np.random.default_rng([0, 99]))

    def batch(i: int) -> np.ndarray:
        rng = np.random.default_rng([settings.seed, 1, i])
        return sample_patches(images, settings.batch_size, settings.patch_px, rng)

    print(f"{settings.n_basis} basis functions, {settings.patch_px}² px patches, λ = "
          f"{settings.sparsity}, {args.batches} batches of {settings.batch_size}")  # fmt: skip
    curves = {"v1lab (FISTA + Hebbian)": run_v1lab(settings, batch, held_out, args.every)}
    for threads in (None, 1):
        label = f"sklearn MBDL ({'1 thread' if threads else 'default threads'})"
        curves[label] = run_sklearn(settings, batch, held_out, args.every, threads)
    sk = {k: v for k, v in curves.items() if k.startswith("sklearn")}
    target = max(v[1][-1] for v in sk.values())  # both sklearn runs have reached it
    rows = []
    for label, (t, v) in curves.items():
        rows.append([label, f"{t[-1, 0]:.1f}", f"{t[-1, 1]:.1f}", f"{v[-1]:.3f}",
                     f"{first_time_at(t[:, 0], v, target):.1f}",
                     f"{first_time_at(t[:, 1], v, target):.1f}"])  # fmt: skip
    print(table(["method", "wall s", "CPU s", "final objective", "wall s to target",
                 "CPU s to target"], rows))  # fmt: skip
    print(f"target: scikit-learn's final objective, {target:.3f}")
    print("objective curves (learning CPU s: held-out objective):")
    for label, (t, v) in curves.items():
        print(
            f"  {label}: " + ", ".join(f"{a:.1f}:{b:.2f}" for a, b in zip(t[:, 1], v, strict=True))
        )
    speedup = {}
    for k, name in ((0, "wall"), (1, "CPU")):
        ours = first_time_at(
            curves["v1lab (FISTA + Hebbian)"][0][:, k], curves["v1lab (FISTA + Hebbian)"][1], target
        )
        theirs = min(first_time_at(t[:, k], v, target) for t, v in sk.values())
        speedup[name] = theirs / ours if ours == ours else float("nan")
        print(f"speed-up to scikit-learn's final objective ({name} time): "
              f"{speedup[name]:.1f}x (target >= 3x)")  # fmt: skip
    curves = {k: (t[:, 1], v) for k, (t, v) in curves.items()}
    if args.figure:
        from v1lab.learn.figures import plot_objective
        from v1lab.plots import save_figure

        ax = plot_objective(curves, xlabel="learning CPU time (s), evaluation excluded")
        ax.axhline(target, color="0.6", lw=0.8, ls="--")
        save_figure(ax.figure, args.figure)
    return 0 if speedup["CPU"] >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
