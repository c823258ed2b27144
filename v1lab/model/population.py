"""The V1 population: a table of cells and the published distributions it is drawn from.

A :class:`Population` is a table of cells (one array per column); it is the ground
truth written to the NWB ``units`` table. :func:`make_population` draws one from
documented distributions; :func:`population_from_cells` takes an explicit list, filling
what a listed cell leaves out with typical values. The surround of each cell is set from
a suppression index drawn from Cavanaugh, Bair & Movshon's (2002a) distribution
(:func:`draw_suppression_index`, :func:`surround_strength_for_index`); how the surround
acts is :class:`v1lab.model.cortex.V1Layer`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.model.distributions import (
    SPECIES,
    draw_from_histogram,
    draw_orientation,
    draw_rf_envelope,
    draw_spatial_frequency,
)
from v1lab.model.retina import compute_resolvable, describe_resolution

__all__ = [
    "CAT_SUPPRESSED_FRACTION",
    "CELL_TYPES",
    "DEFAULT_TYPE_FRACTIONS",
    "DRAWN_MAX_RATE_HZ",
    "LINEAR_WEIGHT_RANGE",
    "MACAQUE_TYPE_FRACTIONS",
    "MAX_SURROUND_STRENGTH",
    "NON_COLUMNS",
    "R_MAX_RANGE_HZ",
    "SPECIES_TYPE_FRACTIONS",
    "SUPPRESSION_INDEX_BINS",
    "SUPPRESSION_INDEX_COUNTS",
    "SURROUND_SCALE",
    "Population",
    "draw_suppression_index",
    "make_population",
    "population_from_cells",
    "surround_strength_for_index",
]

CELL_TYPES = ("simple", "complex", "ds_simple", "end_stopped")

#: Attributes of a :class:`Population` that are not per-cell columns (learned RFs).
NON_COLUMNS = ("rf_images", "rf_pixel_deg")

#: Default mix of cell types drawn by :func:`make_population` for the cat (area 17 has roughly
#: as many complex as simple cells; direction-selective and end-stopped cells are a
#: minority; Hubel & Wiesel 1962, 1965; Gilbert 1977).
DEFAULT_TYPE_FRACTIONS: dict[str, float] = {
    "simple": 0.4,
    "complex": 0.3,
    "ds_simple": 0.15,
    "end_stopped": 0.15,
}

#: The macaque's mix: end-stopping is not a separate class but the strong end of the
#: surround-suppression continuum (Cavanaugh, Bair & Movshon 2002a; Sceniak et al. 1999
#: explain length tuning by the same surround), which every cell here has; the share
#: the cat gives end-stopped cells goes to complex cells (Hubel & Wiesel 1968 found the
#: monkey's hypercomplex cells complex-like).
MACAQUE_TYPE_FRACTIONS: dict[str, float] = {
    "simple": 0.4,
    "complex": 0.45,
    "ds_simple": 0.15,
}

#: Each species' default mix of cell types.
SPECIES_TYPE_FRACTIONS: dict[str, dict[str, float]] = {
    "cat": DEFAULT_TYPE_FRACTIONS,
    "macaque": MACAQUE_TYPE_FRACTIONS,
}

#: The strongest surround a cell may have (the top of the ``surround_strength`` range).
MAX_SURROUND_STRENGTH = 20.0

# The per-cell columns and the range each must lie in.
_COLUMN_RANGES: dict[str, tuple[float, float]] = {
    "x_deg": (-90.0, 90.0),
    "y_deg": (-90.0, 90.0),
    "orientation_deg": (-360.0, 360.0),
    "spatial_frequency_cpd": (0.01, 32.0),
    "phase_deg": (-360.0, 360.0),
    "nx": (0.05, 3.0),
    "ny": (0.05, 3.0),
    "r_max_hz": (0.0, 300.0),
    "spontaneous_hz": (0.0, 50.0),
    "exponent": (1.0, 5.0),
    "c50": (0.01, 1.0),
    "end_inhibition": (0.0, 3.0),
    "surround_strength": (0.0, MAX_SURROUND_STRENGTH),
    "linear_weight": (0.0, 1.0),
}

#: Range of a drawn complex cell's ``linear_weight``: the share of its drive that is
#: phase-sensitive (its first subunit, half-wave rectified) rather than phase-invariant
#: energy. Mechler & Ringach (2002, Vision Res 42:1017) showed that the bimodal
#: distribution of spike F1/F0 follows from a spike threshold acting on a *unimodal*
#: distribution of membrane-potential modulation, and Priebe, Mechler, Carandini &
#: Ferster (2004, Nat Neurosci 7:1113) measured complex cells' potentials modulated to
#: varying degrees, so simple and complex cells are the two ends of a continuum; Mata &
#: Ringach (2005, J Neurophysiol 93:919) found the overlap of ON and OFF subregions
#: falling continuously as F1/F0 rises. No published histogram of this weight exists:
#: the uniform draw over the whole range is an assumption. For the default cell it
#: spans F1/F0 from 0 (weight 0) through 1.06 (0.9) to 1.48 (1; a simple cell: 1.68),
#: so the drawn complex cells fill the dip of Skottun et al.'s (1991) bimodal
#: distribution and overlap the simple cells' mode, as real cells do.
LINEAR_WEIGHT_RANGE = (0.0, 1.0)

#: Width of the surround's Gaussian pool relative to the centre's. Cavanaugh, Bair &
#: Movshon (2002a, J Neurophysiol 88:2530) found surrounds a few times the size of the
#: grating summation field (median ratio of surround to summation-field diameter
#: about 2–3 in their Fig. 6).
SURROUND_SCALE = 3.0

#: Suppression index of macaque V1 cells (Cavanaugh, Bair & Movshon 2002a, Fig. 4A,
#: n = 190): counts in bins of 0.2 from 0 to 1.2 (indices > 1 are responses below
#: the spontaneous rate, drawn here as 0.95, the strongest the model produces).
SUPPRESSION_INDEX_BINS = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
SUPPRESSION_INDEX_COUNTS = np.array([66, 44, 38, 23, 16, 3])

#: Fraction of the surround pool that an optimal, RF-sized grating already covers: a
#: disc of radius 2 centre-pool SDs in a Gaussian SURROUND_SCALE times wider.
_SURROUND_AT_PEAK = 1.0 - np.exp(-0.5 * (2.0 / SURROUND_SCALE) ** 2)


def surround_strength_for_index(
    suppression_index: np.ndarray | float, exponent: np.ndarray | float
) -> np.ndarray:
    """Surround weight ``k_s`` that gives a cell a suppression index at high contrast.

    With ``R ∝ (D / N)^n`` at high contrast and ``N = N_c + k_s N_s``, an optimal
    RF-sized grating (covering a fraction ``f`` of the surround pool) and a full-field
    one give ``SI = 1 − ((1 + k_s f) / (1 + k_s))^n`` (Cavanaugh et al. 2002a's
    ``SI = (R_peak − R_plateau) / R_peak``); this inverts it. Indices are clipped to
    [0, 0.95] and ``k_s`` to at most :data:`MAX_SURROUND_STRENGTH` (already an index of
    0.94 at an exponent of 2).

    Examples
    --------
    >>> float(surround_strength_for_index(0.0, 2.5))
    0.0
    >>> k = float(surround_strength_for_index(0.5, 2.5)); k > 0
    True
    """
    si = np.clip(np.asarray(suppression_index, dtype=float), 0.0, 0.95)
    q = (1.0 - si) ** (1.0 / np.asarray(exponent, dtype=float))
    f = _SURROUND_AT_PEAK
    k_s = (1.0 - q) / np.maximum(q - f, 1e-3)
    return np.clip(k_s, 0.0, MAX_SURROUND_STRENGTH)


#: Cat area 17: 153 of 271 cells suppressed by at least 10 % by a surround grating
#: (Walker, Ohzawa & Freeman 2000, Vis Neurosci 17:369, abstract).
CAT_SUPPRESSED_FRACTION = 153.0 / 271.0


def draw_suppression_index(
    n_cells: int, rng: np.random.Generator, *, species: str = "macaque"
) -> np.ndarray:
    """Suppression indices drawn from the published distribution of the species.

    Macaque: Cavanaugh et al.'s (2002a) histogram, a bin in proportion to its count and
    a value uniformly within it (:func:`~v1lab.model.distributions.draw_from_histogram`).
    Cat: no cat histogram was found, but Walker, Ohzawa & Freeman (2000) counted the
    cells a surround suppresses by at least 10 % (:data:`CAT_SUPPRESSED_FRACTION`, far
    fewer than the macaque's 148 of 190): so a cell is suppressed with that probability,
    its index then drawn from Cavanaugh's histogram above 0.1 (half the first bin's
    count, as the draw is uniform within a bin), else uniformly below 0.1.

    Examples
    --------
    >>> si = draw_suppression_index(20000, np.random.default_rng(0), species="cat")
    >>> round(float(np.mean(si >= 0.1)), 2)
    0.56
    """
    check_choice("species", species, SPECIES)
    if species == "macaque":
        drawn = draw_from_histogram(SUPPRESSION_INDEX_BINS, SUPPRESSION_INDEX_COUNTS, n_cells, rng)
        return np.minimum(drawn, 0.95)
    suppressed = rng.random(n_cells) < CAT_SUPPRESSED_FRACTION
    edges = np.concatenate([[0.1], SUPPRESSION_INDEX_BINS[1:]])
    counts = np.concatenate([[SUPPRESSION_INDEX_COUNTS[0] / 2.0], SUPPRESSION_INDEX_COUNTS[1:]])
    strong = np.minimum(draw_from_histogram(edges, counts, n_cells, rng), 0.95)
    return np.where(suppressed, strong, rng.uniform(0.0, 0.1, n_cells))


@dataclass(frozen=True)
class Population:
    """A table of V1 cells: one array per column, one row per cell.

    Attributes
    ----------
    cell_type : ndarray of str
        One of :data:`CELL_TYPES`.
    x_deg, y_deg : ndarray
        RF centre.
    orientation_deg : ndarray
        Preferred bar orientation in [0, 180).
    direction_sign : ndarray of int
        +1: prefers motion towards orientation + 90°; −1: towards orientation + 270°;
        0: not direction-selective.
    spatial_frequency_cpd, phase_deg : ndarray
        Gabor carrier frequency and phase (0 = even, ON-centre; 90 = odd).
    nx, ny : ndarray
        Envelope widths across and along the bar, in carrier periods (Ringach 2002).
    r_max_hz, spontaneous_hz, exponent, c50 : ndarray
        Response nonlinearity.
    end_inhibition : ndarray
        Strength of the end zones (end-stopped cells; 0 otherwise).
    linear_weight : ndarray
        Complex cells: the phase-sensitive share of the drive (0 = pure energy model;
        :data:`LINEAR_WEIGHT_RANGE`); 0 for other types, where it is not used.
    surround_strength : ndarray
        Weight ``k_s`` of the extra-classical surround in the normalisation signal
        (0: no surround suppression). ``None`` means 0 for every cell.
    field_index : ndarray of int
        Learned cells (:mod:`v1lab.model.learned`): the row of each cell's field in its
        fields file; −1 for a Gabor RF. ``None`` means −1 for every cell.
    rf_images : ndarray (n_cells, 2, n, n) or None
        Learned cells: each cell's field and its quadrature partner, which the V1 layer
        reads instead of the Gabors (``V1Layer(rf_images=...)``). Not a per-cell column.
    rf_pixel_deg : float
        Pixel size of ``rf_images`` (deg).
    """

    cell_type: np.ndarray
    x_deg: np.ndarray
    y_deg: np.ndarray
    orientation_deg: np.ndarray
    direction_sign: np.ndarray
    spatial_frequency_cpd: np.ndarray
    phase_deg: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    r_max_hz: np.ndarray
    spontaneous_hz: np.ndarray
    exponent: np.ndarray
    c50: np.ndarray
    end_inhibition: np.ndarray
    surround_strength: np.ndarray | None = None
    linear_weight: np.ndarray | None = None
    # --- learned receptive fields (issue 15, v1lab.model.learned) ---
    field_index: np.ndarray | None = None
    rf_images: np.ndarray | None = dataclass_field(default=None, compare=False, repr=False)
    rf_pixel_deg: float = 0.2
    # --- end learned receptive fields ---

    def __post_init__(self) -> None:
        n = len(self.cell_type)
        if self.surround_strength is None:
            object.__setattr__(self, "surround_strength", np.zeros(n))
        if self.linear_weight is None:
            object.__setattr__(self, "linear_weight", np.zeros(n))
        if self.field_index is None:  # learned RFs (issue 15): -1 = a Gabor RF
            object.__setattr__(self, "field_index", np.full(n, -1))
        for f in fields(self):
            if f.name in NON_COLUMNS:  # learned RFs (issue 15): not one value per cell
                continue
            col = np.asarray(getattr(self, f.name))
            if col.shape != (n,):
                raise ParameterError(f.name, col.shape, f"expected one value per cell ({n})")
            object.__setattr__(self, f.name, col)
        object.__setattr__(self, "orientation_deg", np.mod(self.orientation_deg, 180.0))

    def __len__(self) -> int:
        return len(self.cell_type)

    @property
    def preferred_direction_deg(self) -> np.ndarray:
        """Preferred direction of motion; NaN for cells that are not direction-selective."""
        d = np.mod(self.orientation_deg + np.where(self.direction_sign >= 0, 90.0, 270.0), 360.0)
        return np.where(self.direction_sign != 0, d, np.nan)

    def select(self, rows: Any) -> Population:
        """The cells ``rows`` (indices), as a population of their own (RF images too)."""
        idx = np.asarray(rows, dtype=int)
        columns = {f.name: getattr(self, f.name)[idx] for f in fields(self)
                   if f.name not in NON_COLUMNS}  # fmt: skip
        images = None if self.rf_images is None else self.rf_images[idx]
        return Population(**columns, rf_images=images, rf_pixel_deg=self.rf_pixel_deg)

    def to_columns(self) -> dict[str, np.ndarray]:
        """Columns for the NWB ``units`` table and ``metrics.csv`` (DESIGN.md contract)."""
        return {
            "cell_type": self.cell_type.astype(str),
            "preferred_orientation_deg": self.orientation_deg.astype(float),
            "preferred_direction_deg": self.preferred_direction_deg,
            "rf_x_deg": self.x_deg.astype(float),
            "rf_y_deg": self.y_deg.astype(float),
            "spatial_frequency_cpd": self.spatial_frequency_cpd.astype(float),
            "phase_deg": self.phase_deg.astype(float),
        }

    def to_cells(self) -> list[dict[str, Any]]:
        """The table as a list of per-cell dicts (the protocol's explicit form).

        A learned cell names its field (``field_index``); its images are not in the
        dicts, a protocol reads them from the fields file (:mod:`v1lab.model.learned`).
        """
        out = []
        for i in range(len(self)):
            cell: dict[str, Any] = {"type": str(self.cell_type[i])}
            for f in fields(self):
                if f.name in ("cell_type", "direction_sign", "field_index", *NON_COLUMNS):
                    continue
                cell[f.name] = float(getattr(self, f.name)[i])
            if self.field_index[i] >= 0:  # learned RFs (issue 15)
                cell["field_index"] = int(self.field_index[i])
            if self.direction_sign[i] != 0:
                cell["preferred_direction_deg"] = float(self.preferred_direction_deg[i])
            out.append(cell)
        return out


def make_population(
    n_cells: int,
    rng: np.random.Generator,
    *,
    type_fractions: Mapping[str, float] | None = None,
    center_deg: tuple[float, float] = (0.0, 0.0),
    rf_scatter_deg: float = 0.5,
    spatial_frequency_cpd: float | None = None,
    species: str = "cat",
    lgn_spacing_deg: float | None = None,
) -> Population:
    """Draw a population from documented distributions: the frozen cortex of a species.

    ``species`` is ``"cat"`` (area 17 near the area centralis, where Hubel & Wiesel
    recorded; the default) or ``"macaque"`` (V1); the species-specific draws are
    :mod:`v1lab.model.distributions`'. Distributions:

    * type: exactly ``round(fraction * n)`` cells of each type (largest remainders),
      in random order; default fractions the species' (:data:`SPECIES_TYPE_FRACTIONS`);
    * RF position: Gaussian scatter of SD ``rf_scatter_deg`` about ``center_deg`` —
      RF scatter along a penetration is about one RF size (Hubel & Wiesel 1962);
    * orientation: uniform on [0°, 180°) (cat); De Valois, Yund & Hepler's (1982)
      histogram (macaque);
    * spatial frequency: cat, log-normal about ``spatial_frequency_cpd`` (default
      0.8 c/deg), SD 0.1 log10 units, truncated at ±0.2 (Movshon, Thompson & Tolhurst
      1978: 0.3–3 c/deg within 5° of the area centralis); macaque, De Valois, Albrecht & Thorell's
      (1982) histograms for simple and complex cells, scaled to a median of
      ``spatial_frequency_cpd`` when it is given
      (:func:`~v1lab.model.distributions.draw_spatial_frequency`);
    * phase: uniform (even and odd RFs; Jones & Palmer 1987);
    * ``nx``, ``ny``: macaque, jointly from Ringach's (2002) histogram, round one-lobed
      fields to elongated multi-lobed ones; cat, U(0.3, 0.45) and U(0.5, 0.8), his
      elongated cluster (:func:`~v1lab.model.distributions.draw_rf_envelope`);
    * ``r_max_hz`` ~ U(30, 70); ``spontaneous_hz`` ~ U(0.2, 2) for simple-like cells and
      U(1, 5) for complex-like cells (simple cells are quieter; Hubel & Wiesel 1962);
    * ``exponent`` ~ U(1.5, 2.5), about Heeger's (1992) half-squaring (n = 2), and
      ``c50`` ~ U(0.1, 0.3) (Albrecht & Hamilton 1982 fitted both with the hyperbolic
      ratio). The exponent sharpens every spike tuning curve beyond its linear RF's,
      so its range is constrained by the published tuning widths, not only by contrast
      response fits: with U(2, 3) the measured macaque SF bandwidths were narrower than
      Schiller, Finlay & Volman's (1976) (KS score 0.83–0.86) and a small spot drove a
      cat simple cell only (D/c50)^2.5 of its maximum; with U(1.5, 2.5) the macaque card
      scores 0.91 on SF bandwidth and a subregion-sized spot gives ON and OFF maps
      anticorrelated in 82 % of responsive cat simple cells (benchmarks/card.py,
      benchmarks/findings.py). The card scores against the same SF data, which is said
      here because the choice and the score are not independent;
    * direction sign ±1 at random for ``ds_simple``; ``end_inhibition`` 0.5 for
      ``end_stopped``: the two end zones together balance the centre, so a slit much
      longer than the RF silences the cell (Hubel & Wiesel 1965);
    * ``surround_strength`` from a suppression index drawn from Cavanaugh, Bair &
      Movshon's (2002a) distribution (macaque) or with Walker, Ohzawa & Freeman's
      (2000) share of suppressed cells (cat) (:func:`draw_suppression_index`,
      :func:`surround_strength_for_index`);
    * ``linear_weight`` ~ U(0, 1) for complex cells: the phase-sensitive share of
      the drive, a continuum from the energy model towards a simple cell (Mechler &
      Ringach 2002; Priebe et al. 2004; :data:`LINEAR_WEIGHT_RANGE` says what is
      assumed).

    With ``lgn_spacing_deg`` (the spacing of the LGN mosaic that will record them) only
    cells whose field the mosaic resolves are kept
    (:func:`v1lab.model.retina.compute_resolvable`): a cell it does not resolve gets a
    new spatial frequency and envelope, drawn again from the same distributions, so the
    population is the species' distribution cut at the eye's resolution. The cat's
    cells always fit the cat's eye; through the macaque's default eye (spacing 0.05°)
    about 15 % of De Valois' and Ringach's cells are drawn again — the fine fields of
    the high-frequency tail, which the population card records through finer eyes
    (:mod:`v1lab.card`).

    Examples
    --------
    >>> pop = make_population(8, np.random.default_rng(0))
    >>> len(pop), sorted(set(pop.cell_type)) == sorted(set(pop.cell_type) & set(CELL_TYPES))
    (8, True)
    """
    n_cells = check_int("n_cells", n_cells, lo=1, hi=1_000_000)
    species = check_choice("species", species, SPECIES)
    fractions = dict(SPECIES_TYPE_FRACTIONS[species] if type_fractions is None else type_fractions)
    for name, value in fractions.items():
        check_choice("type_fractions", name, CELL_TYPES)
        check_number(f"type_fractions.{name}", value, lo=0)
    total = sum(fractions.values())
    if total <= 0:
        raise ParameterError("type_fractions", fractions, "expected at least one positive fraction")
    names = list(fractions)
    share = np.array([fractions[k] / total for k in names]) * n_cells
    counts = np.floor(share).astype(int)
    leftover = np.argsort(-(share - counts), kind="stable")[: n_cells - counts.sum()]
    counts[leftover] += 1
    types = rng.permutation(np.repeat(np.array(names), counts))

    simple_like = np.isin(types, ("simple", "ds_simple"))
    sf = draw_spatial_frequency(species, simple_like, rng, median_cpd=spatial_frequency_cpd)
    # One draw after another in the order of earlier versions, so a cat population of
    # a given seed is the same as theirs.
    columns: dict[str, Any] = {"cell_type": types}
    columns["x_deg"] = center_deg[0] + rng.normal(0.0, rf_scatter_deg, n_cells)
    columns["y_deg"] = center_deg[1] + rng.normal(0.0, rf_scatter_deg, n_cells)
    columns["orientation_deg"] = draw_orientation(species, n_cells, rng)
    columns["direction_sign"] = np.where(types == "ds_simple", rng.choice([-1, 1], n_cells), 0)
    columns["spatial_frequency_cpd"] = sf
    columns["phase_deg"] = rng.uniform(0.0, 360.0, n_cells)
    columns["nx"], columns["ny"] = draw_rf_envelope(species, n_cells, rng)
    columns["r_max_hz"] = rng.uniform(*R_MAX_RANGE_HZ, n_cells)
    columns["spontaneous_hz"] = np.where(
        simple_like, rng.uniform(0.2, 2.0, n_cells), rng.uniform(1.0, 5.0, n_cells)
    )
    columns["exponent"] = rng.uniform(1.5, 2.5, n_cells)
    columns["c50"] = rng.uniform(0.1, 0.3, n_cells)
    columns["end_inhibition"] = np.where(types == "end_stopped", 0.5, 0.0)
    # Drawn last, so the columns above are those of earlier versions for the same seed.
    suppression = draw_suppression_index(n_cells, rng, species=species)
    columns["surround_strength"] = surround_strength_for_index(suppression, columns["exponent"])
    # Drawn after the surround, so the columns above are those of earlier versions.
    columns["linear_weight"] = np.where(
        types == "complex", rng.uniform(*LINEAR_WEIGHT_RANGE, n_cells), 0.0
    )
    if lgn_spacing_deg is not None:
        _redraw_unresolved(
            columns, simple_like, rng, species, spatial_frequency_cpd, lgn_spacing_deg
        )
    return Population(**columns)


#: Rounds of drawing again before a mosaic is declared too coarse for the species.
_REDRAW_ROUNDS = 200


def _redraw_unresolved(
    columns: dict[str, Any],
    simple_like: np.ndarray,
    rng: np.random.Generator,
    species: str,
    median_cpd: float | None,
    lgn_spacing_deg: float,
) -> None:
    """Draw the frequency and envelope of cells the mosaic does not resolve again, in place.

    Only after every other draw, and only when some cell needs it, so a population
    that fits its eye uses the random stream exactly as before.
    """
    spacing = check_number("retina.lgn_spacing_deg", lgn_spacing_deg, lo=0, lo_open=True)
    for _ in range(_REDRAW_ROUNDS):
        bad = np.flatnonzero(
            ~compute_resolvable(
                columns["spatial_frequency_cpd"], columns["nx"], lgn_spacing_deg=spacing
            )
        )
        if bad.size == 0:
            return
        columns["spatial_frequency_cpd"][bad] = draw_spatial_frequency(
            species, simple_like[bad], rng, median_cpd=median_cpd
        )
        columns["nx"][bad], columns["ny"][bad] = draw_rf_envelope(species, bad.size, rng)
    raise ParameterError(
        "retina.lgn_spacing_deg",
        spacing,
        f"a mosaic that resolves the {species}'s cells (fields "
        f"{describe_resolution(spacing)}); after {_REDRAW_ROUNDS} draws some cells still "
        "did not fit: use a finer [retina] or a lower population.spatial_frequency_cpd",
    )


#: Upper ends of the drawn ``r_max_hz`` and ``spontaneous_hz`` distributions.
R_MAX_RANGE_HZ = (30.0, 70.0)
DRAWN_MAX_RATE_HZ = R_MAX_RANGE_HZ[1] + 5.0

_CELL_DEFAULTS: dict[str, float] = {
    "x_deg": 0.0,
    "y_deg": 0.0,
    "orientation_deg": 0.0,
    "spatial_frequency_cpd": 0.8,
    "phase_deg": 0.0,
    "nx": 0.4,
    "ny": 0.65,
    "r_max_hz": 50.0,
    "spontaneous_hz": 1.0,
    "exponent": 2.0,
    "c50": 0.2,
    # Cavanaugh et al.'s (2002a) median suppression index, about 0.33, at exponent 2:
    # the macaque's median drawn surround. The cat's drawn median is weaker (Walker,
    # Ohzawa & Freeman 2000: 44 % of cells suppressed by < 10 %).
    "surround_strength": float(surround_strength_for_index(0.33, 2.0)),
    # A listed complex cell is the pure energy model unless it says otherwise.
    "linear_weight": 0.0,
}


def population_from_cells(cells: Sequence[Mapping[str, Any]]) -> Population:
    """Build a population from an explicit list of cells.

    Each cell is a mapping with ``type`` (one of :data:`CELL_TYPES`) and any of
    ``x_deg``, ``y_deg``, ``orientation_deg``, ``spatial_frequency_cpd``,
    ``phase_deg``, ``nx``, ``ny``, ``r_max_hz``, ``spontaneous_hz``, ``exponent``,
    ``c50``, ``end_inhibition``, ``surround_strength`` (default: the drawn population's
    median); a ``ds_simple`` cell may give
    ``preferred_direction_deg`` (orientation ± 90°) instead of, or with, the orientation.
    A learned cell gives ``field_index``, its field's row in a fields file (the images
    are attached by :func:`v1lab.model.learned.attach_learned_fields`).

    Examples
    --------
    >>> pop = population_from_cells([{"type": "simple", "orientation_deg": 45}])
    >>> float(pop.orientation_deg[0])
    45.0
    """
    if len(cells) == 0:
        raise ParameterError("cells", [], "expected at least one cell")
    columns: dict[str, list[Any]] = {
        f.name: [] for f in fields(Population) if f.name not in NON_COLUMNS
    }
    allowed = {"type", "preferred_direction_deg", "end_inhibition", "field_index", *_CELL_DEFAULTS}
    for i, cell in enumerate(cells):
        where = f"cells[{i}]"
        if not isinstance(cell, Mapping):
            raise ParameterError(where, cell, "expected a table of cell parameters")
        for key in cell:
            if key not in allowed:
                raise ParameterError(
                    f"{where}.{key}",
                    cell[key],
                    f"unknown cell parameter; allowed: {', '.join(sorted(allowed))}",
                )
        kind = check_choice(f"{where}.type", cell.get("type"), CELL_TYPES)
        values = {k: cell.get(k, v) for k, v in _CELL_DEFAULTS.items()}
        values["end_inhibition"] = cell.get("end_inhibition", 0.5 if kind == "end_stopped" else 0.0)
        for key, value in values.items():
            lo, hi = _COLUMN_RANGES[key]
            values[key] = check_number(f"{where}.{key}", value, lo=lo, hi=hi)
        sign = 0
        if "preferred_direction_deg" in cell:
            direction = check_number(
                f"{where}.preferred_direction_deg", cell["preferred_direction_deg"]
            )
            if kind != "ds_simple":
                raise ParameterError(
                    f"{where}.preferred_direction_deg",
                    direction,
                    "only ds_simple cells have a preferred direction",
                )
            if "orientation_deg" not in cell:
                values["orientation_deg"] = np.mod(direction - 90.0, 180.0)
            offset = np.mod(direction - values["orientation_deg"], 360.0)
            if abs(offset - 90.0) < 1e-6:
                sign = 1
            elif abs(offset - 270.0) < 1e-6:
                sign = -1
            else:
                raise ParameterError(
                    f"{where}.preferred_direction_deg",
                    direction,
                    "expected orientation_deg ± 90 = "
                    f"{np.mod(values['orientation_deg'] + 90, 360):g} "
                    f"or {np.mod(values['orientation_deg'] + 270, 360):g}",
                )
        elif kind == "ds_simple":
            sign = 1
        columns["cell_type"].append(kind)
        columns["direction_sign"].append(sign)
        # A learned cell's field (issue 15; v1lab.model.learned gives it its images).
        columns["field_index"].append(
            check_int(f"{where}.field_index", cell["field_index"], lo=0, hi=10**9)
            if "field_index" in cell
            else -1
        )
        for key, value in values.items():
            columns[key].append(value)
    return Population(**{k: np.asarray(v) for k, v in columns.items()})
