"""``v1lab learn``: learn V1's fields from natural images and write their folder.

::

    v1lab learn [--images DIR] [--out DIR] [--overwrite] [--seed N] [--inference fista|lca]
                [--patch-px N] [--basis N] [--batches N] [--sparsity L] [--ica] [--quiet]

prints a progress bar with the objective while it learns, then fits every field with a
Gabor and prints the summary (:class:`~v1lab.learn.fields.FieldSummary`). The folder
holds ``fields.npz`` (:func:`~v1lab.learn.fields.save_fields`), ``fits.csv`` (one row per
field, pixel units), ``objective.csv``, ``summary.txt`` and ``figures/`` (``fields.png``
sorted by orientation, ``objective.png``, ``nx_ny.png`` over Ringach 2002); with
``--ica`` also FastICA's fields on the same patches (``ica_fields.npz``, their fits and
figure).

Resumable: while it learns, the state is saved every :data:`CHECKPOINT_EVERY` batches
(and on Ctrl-C) in a hidden file beside the destination,
``.<out>.learn-checkpoint.npz``; the same command run again continues from it and gives
the same fields as an uninterrupted run (:mod:`v1lab.learn.learning`). It is removed when
the folder is complete. The folder is assembled under a temporary name and renamed into
place when complete; an existing folder is refused before any work unless
``--overwrite``. Bad input (a missing or unreadable image folder, a bad option) is one
line on stderr and exit status 2; Ctrl-C is exit status 130.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from v1lab._validate import ParameterError
from v1lab.io import check_run_folder, default_run_folder, save_table_csv, write_atomic
from v1lab.learn.fields import (
    FIT_COLUMNS,
    LearnedFields,
    compute_field_fits,
    compute_field_summary,
    save_fields,
)
from v1lab.learn.images import (
    DEFAULT_IMAGES,
    list_image_files,
    load_image_folder,
    load_natural_images,
)
from v1lab.learn.learning import INFERENCE, LearnSettings, LearnState, learn_dictionary
from v1lab.learn.whitening import compute_whitened

__all__ = ["CHECKPOINT_EVERY", "checkpoint_path", "main", "make_parser", "save_learn_folder"]

_PROG = "v1lab learn"

#: Batches between two checkpoints.
CHECKPOINT_EVERY = 50


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def make_parser() -> argparse.ArgumentParser:
    """The ``v1lab learn`` argument parser (defaults from :class:`LearnSettings`)."""
    d = LearnSettings()
    p = _Parser(
        prog=_PROG,
        description=(
            "Learn V1's receptive fields from natural images by sparse coding "
            "(Olshausen & Field 1996), fit each with a Gabor and write the fields folder."
        ),
    )
    p.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="a folder of your own images (default: scikit-image's photographs: "
        + ", ".join(DEFAULT_IMAGES)
        + ")",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder to write (default: runs/<YYYYmmdd-HHMMSS>_learn)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out, once the new folder is complete",
    )
    p.add_argument("--seed", type=int, default=d.seed, metavar="N", help=f"default: {d.seed}")
    p.add_argument(
        "--inference",
        choices=INFERENCE,
        default=d.inference,
        help=f"FISTA (fast) or the locally competitive network (neural); default: {d.inference}",
    )
    p.add_argument(
        "--patch-px",
        type=int,
        default=d.patch_px,
        metavar="N",
        help=f"patch side in pixels (default: {d.patch_px})",
    )
    p.add_argument(
        "--basis",
        type=int,
        default=d.n_basis,
        metavar="N",
        help=f"basis functions (default: {d.n_basis})",
    )
    p.add_argument(
        "--batches",
        type=int,
        default=d.n_batches,
        metavar="N",
        help=f"learning steps of {d.batch_size} patches (default: {d.n_batches})",
    )
    p.add_argument(
        "--sparsity",
        type=float,
        default=d.sparsity,
        metavar="L",
        help=f"λ, the L1 weight (default: {d.sparsity})",
    )
    p.add_argument(
        "--ica",
        action="store_true",
        help="also learn FastICA's fields on the same patches, for comparison",
    )
    p.add_argument("--quiet", action="store_true", help="print only the folder (and errors)")
    return p


def checkpoint_path(folder: str | Path) -> Path:
    """Where the learning state of a run into ``folder`` is kept until it is complete."""
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.learn-checkpoint.npz")


def _save_checkpoint(state: LearnState, sources: tuple[str, ...], path: Path) -> None:
    buf = io.BytesIO()
    np.savez(
        buf,
        dictionary=state.dictionary,
        batch=state.batch,
        objective=state.objective,
        settings=np.array(state.settings.to_json()),
        sources=np.array(sources, dtype=str),
    )
    write_atomic(path, buf.getvalue())


def _load_checkpoint(path: Path, settings: LearnSettings, sources: tuple[str, ...]) -> LearnState:
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = LearnSettings.from_json(str(data["settings"]))
            saved_sources = tuple(str(s) for s in data["sources"])
            state = LearnState(saved, data["dictionary"], int(data["batch"]), data["objective"])
    except (OSError, ValueError, KeyError) as exc:
        raise ParameterError(
            "checkpoint",
            path.name,
            f"expected a learning checkpoint; remove {path} to start afresh "
            f"({' '.join(str(exc).split())[:60]})",
        ) from None
    if saved != settings or saved_sources != sources:
        raise ParameterError(
            "checkpoint",
            path.name,
            f"{path} was made with other options or images: run the same command to "
            "resume, or remove it to start afresh",
        )
    return state


class _ProgressBar:
    """One line redrawn in place: batches done, the bar, the recent objective, time."""

    def __init__(self, stream: TextIO, total: int, label: str) -> None:
        self.stream, self.total, self.label = stream, total, label
        self.start = time.perf_counter()

    def __call__(self, done: int, value: float | None = None) -> None:
        """Redraw for ``done`` steps; ``value``, if given, is the objective shown."""
        width = 24
        filled = round(width * done / self.total)
        bar = "█" * filled + "·" * (width - filled)
        shown = f" objective {value:.3f}" if value is not None else ""
        self.stream.write(
            f"\r{self.label} [{done:>{len(str(self.total))}}/{self.total}] |{bar}|{shown} "
            f"({time.perf_counter() - self.start:.1f} s)"
        )
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _fits_table(fits: np.ndarray) -> dict[str, np.ndarray]:
    table = {"field": np.arange(fits.shape[0])}
    table.update({name: fits[:, i] for i, name in enumerate(FIT_COLUMNS)})
    return table


def save_learn_folder(
    learned: LearnedFields,
    folder: str | Path,
    *,
    summary_text: str,
    ica: LearnedFields | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the learn folder (see the module notes); returns its path.

    Built under a temporary name beside ``folder`` and renamed into place only when
    complete, so an interrupted write leaves nothing behind.
    """
    from v1lab.learn.figures import plot_fields, plot_nx_ny, plot_objective
    from v1lab.plots import save_figure

    folder = check_run_folder(folder, overwrite=overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.mkdir(building)
    try:
        save_fields(learned, building / "fields.npz")
        if learned.fits is not None:
            save_table_csv(building / "fits.csv", _fits_table(learned.fits))
        batches = np.arange(1, len(learned.objective) + 1)
        save_table_csv(
            building / "objective.csv", {"batch": batches, "objective": learned.objective}
        )
        write_atomic(building / "summary.txt", summary_text)
        figures = building / "figures"
        save_figure(plot_fields(learned).figure, figures / "fields.png")
        ax = plot_objective({"sparse coding": (batches, learned.objective)}, xlabel="batch")
        save_figure(ax.figure, figures / "objective.png")
        save_figure(plot_nx_ny(learned).figure, figures / "nx_ny.png")
        if ica is not None:
            save_fields(ica, building / "ica_fields.npz")
            if ica.fits is not None:
                save_table_csv(building / "ica_fits.csv", _fits_table(ica.fits))
            save_figure(plot_fields(ica, label="FastICA fields").figure, figures / "ica_fields.png")
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(building, folder)
    return folder


def _load_images(folder: Path | None) -> tuple[list[np.ndarray], tuple[str, ...]]:
    if folder is None:
        return load_natural_images(DEFAULT_IMAGES), DEFAULT_IMAGES
    images = load_image_folder(folder)
    return images, tuple(str(p) for p in list_image_files(folder))


def _fit_jobs() -> int:
    """Processes for the Gabor fits: the cores this process may use, at most 2."""
    return max(1, min(2, len(os.sched_getaffinity(0))))


def _learn(args: argparse.Namespace, out: TextIO) -> int:
    settings = LearnSettings(
        patch_px=args.patch_px,
        n_basis=args.basis,
        sparsity=args.sparsity,
        n_batches=args.batches,
        inference=args.inference,
        seed=args.seed,
    )
    folder = args.out if args.out is not None else default_run_folder("learn")
    check_run_folder(folder, overwrite=args.overwrite)
    try:
        import skimage  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ParameterError(
            "v1lab learn",
            exc.name,
            "needs scikit-image and scikit-learn: pip install 'v1lab[learn]'",
        ) from None
    tic = time.perf_counter()
    images, sources = _load_images(args.images)
    whitened = [compute_whitened(im, cutoff_cpp=settings.cutoff_cpp) for im in images]
    checkpoint = checkpoint_path(folder)
    if checkpoint.exists():
        state = _load_checkpoint(checkpoint, settings, sources)
        if not args.quiet:
            out.write(f"{_PROG}: resuming from {checkpoint} at batch {state.batch}\n")
    else:
        state = LearnState.start(settings)
    if not args.quiet:
        out.write(
            f"{_PROG}: {len(images)} images, {settings.n_basis} fields of "
            f"{settings.patch_px}×{settings.patch_px} px, {settings.inference}, "
            f"λ = {settings.sparsity:g}, seed {settings.seed}\n"
        )
    bar = _ProgressBar(out, settings.n_batches, "learning")
    latest = [state]

    def progress(s: LearnState) -> None:
        latest[0] = s
        if not args.quiet:
            bar(s.batch, float(np.mean(s.objective[-10:])))
        if s.batch % CHECKPOINT_EVERY == 0 and not s.done:
            _save_checkpoint(s, sources, checkpoint)

    try:
        state = learn_dictionary(whitened, state, progress=progress)
    except KeyboardInterrupt:
        if latest[0].batch > 0:
            _save_checkpoint(latest[0], sources, checkpoint)
            sys.stderr.write(
                f"\n{_PROG}: interrupted at batch {latest[0].batch}; the same command resumes "
                f"from {checkpoint}\n"
            )
            return 130
        raise
    t_learn = time.perf_counter() - tic
    fields = state.dictionary.reshape(-1, settings.patch_px, settings.patch_px)
    fit_bar = _ProgressBar(out, len(fields), "fitting ")
    fits = compute_field_fits(
        fields, n_jobs=_fit_jobs(), progress=None if args.quiet else lambda k, _: fit_bar(k)
    )
    learned = LearnedFields(fields, settings, state.objective, sources, fits)
    summary = compute_field_summary(fits, settings.patch_px)
    t_total = time.perf_counter() - tic
    text = (
        f"sparse coding ({settings.inference}): {summary.describe()}\n"
        f"learned in {t_learn:.1f} s, fitted in {t_total - t_learn:.1f} s\n"
    )
    ica = None
    if args.ica:
        ica = _learn_ica(whitened, settings, sources, out, quiet=args.quiet)
        text += f"FastICA: {compute_field_summary(ica.fits, settings.patch_px).describe()}\n"
    save_learn_folder(learned, folder, summary_text=text, ica=ica, overwrite=args.overwrite)
    checkpoint.unlink(missing_ok=True)
    if not args.quiet:
        out.write(text)
    out.write(f"{folder}\n" if args.quiet else f"Learn folder: {folder}\n")
    return 0


#: Patches FastICA learns from (about 80 per dimension for 12 × 12 patches).
ICA_PATCHES = 12_000


def _learn_ica(
    whitened: list[np.ndarray],
    settings: LearnSettings,
    sources: tuple[str, ...],
    out: TextIO,
    *,
    quiet: bool,
) -> LearnedFields:
    from v1lab.learn.ica import compute_ica_fields
    from v1lab.learn.patches import sample_patches

    s = settings.patch_px
    rng = np.random.default_rng([settings.seed, 2])
    patches = sample_patches(whitened, ICA_PATCHES, s, rng)
    if not quiet:
        out.write(f"FastICA on {ICA_PATCHES} of the same whitened patches …\n")
    n = min(settings.n_basis, s * s)
    rows = compute_ica_fields(patches, n, seed=settings.seed).reshape(-1, s, s)
    bar = _ProgressBar(out, n, "fitting ")
    fits = compute_field_fits(
        rows, n_jobs=_fit_jobs(), progress=None if quiet else lambda k, _: bar(k)
    )
    return LearnedFields(rows.astype(np.float32), settings, np.zeros(0), sources, fits)


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    """``v1lab learn``; returns the exit status (0 done, 1 not written, 2 bad input, 130)."""
    from v1lab.io import RunFolderError

    out = out or sys.stdout
    err = sys.stderr
    try:
        args = make_parser().parse_args(argv)
        return _learn(args, out)
    except _UsageError as exc:
        err.write(f"{_PROG}: error: {exc}\n")
        return 2
    except (ParameterError, FileExistsError) as exc:
        err.write(f"{_PROG}: error: {' '.join(str(exc).splitlines())}\n")
        return 2
    except RunFolderError as exc:
        err.write(f"{_PROG}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        err.write(f"\n{_PROG}: interrupted; nothing was written\n")
        return 130
