"""V1 cells built from LGN input the way the literature explains them.

Cell types, and what each reproduces
------------------------------------
``simple``
    Hubel & Wiesel's (1962) feedforward model: a Gabor-weighted sum of aligned LGN
    cells, ON cells where the Gabor is positive and OFF cells where it is negative, so
    the RF has elongated, side-by-side ON and OFF subregions with even or odd symmetry
    (Jones & Palmer 1987; envelope sizes in Ringach's 2002 ``nx``, ``ny`` units). Each
    subregion is also inhibited by the opposite-sign LGN cells — push–pull (Ferster
    1988; Hirsch et al. 1998) — so light in an OFF subregion actively suppresses the
    cell, as H&W saw, and the summed input stays nearly linear despite the LGN's
    rectification (Troyer et al. 1998).
``complex``
    The energy model (Adelson & Bergen 1985): the sum of squares of two simple
    subunits in spatial quadrature, so the cell responds to a correct slit anywhere in
    its field without ON/OFF subregions (Hubel & Wiesel 1962; Movshon et al. 1978).
``ds_simple``
    A space–time inseparable RF: an even subunit fed by non-lagged LGN cells plus a
    quadrature (odd) subunit fed by lagged cells (Saul & Humphrey 1990; DeAngelis,
    Ohzawa & Freeman 1993), so one direction of motion sums the two and the other
    cancels them.
``end_stopped``
    Hubel & Wiesel's (1965) hypercomplex cell: a complex centre minus complex end zones
    of the same orientation displaced along the bar's axis, so a bar longer than the
    RF is suppressed (the subtractive end-inhibition model of Dobbins, Zucker & Cynader
    1987).

Response nonlinearity (Heeger 1992; Albrecht & Hamilton 1982; Carandini & Heeger 2012)
    ``R = r_spont + r_max · D^n / (c50^n + N^n)``: an expansive power law of the
    rectified drive ``D`` divided by an untuned normalisation signal ``N``, the local
    mean of the same rectified push–pull LGN signals around the RF (a pool of every
    orientation, pooled linearly so that it grows with a small stimulus's area as ``D`` does).
    For the optimal grating ``N ≈ D``, so
    the contrast response is a saturating Naka–Rushton curve; and because ``N`` is
    the same for every orientation, the tuning curve only scales with contrast — its
    width does not change (Sclar & Freeman 1982).

Extra-classical surround (Cavanaugh, Bair & Movshon 2002a; Sceniak et al. 1999)
    The normalisation signal also pools a wide region around the RF,
    ``N = N_centre + k_s · N_surround``, with the surround Gaussian
    :data:`SURROUND_SCALE` times as wide as the centre pool (the "ratio of Gaussians"
    form Cavanaugh et al. fitted). A grating growing past the RF no longer adds drive
    but keeps adding surround signal, so the size-tuning curve rises to a peak — the
    grating summation field — then falls to a suppressed plateau. Each cell's ``k_s``
    (``surround_strength``) is set from a suppression index drawn from their
    distribution (:func:`surround_strength_for_index`).

Population
    A :class:`Population` is a table of cells; it is the ground truth written to the
    NWB ``units`` table. :func:`make_population` draws one from documented
    distributions; :func:`population_from_cells` takes an explicit list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.model.retina import Retina, compute_dog_gain, compute_kernel_response, flush_tiny

__all__ = [
    "CELL_TYPES",
    "SURROUND_SCALE",
    "Population",
    "V1Layer",
    "draw_suppression_index",
    "gabor",
    "make_gabor_weights",
    "make_population",
    "population_from_cells",
    "surround_strength_for_index",
]

CELL_TYPES = ("simple", "complex", "ds_simple", "end_stopped")

#: Default mix of cell types drawn by :func:`make_population` (cat area 17 has roughly
#: as many complex as simple cells; direction-selective and end-stopped cells are a
#: minority; Hubel & Wiesel 1962, 1965; Gilbert 1977).
DEFAULT_TYPE_FRACTIONS: dict[str, float] = {
    "simple": 0.4,
    "complex": 0.3,
    "ds_simple": 0.15,
    "end_stopped": 0.15,
}

#: The strongest surround a cell may have (the top of the ``surround_strength`` range).
MAX_SURROUND_STRENGTH = 20.0

# The per-cell columns and the range each must lie in.
_COLUMN_RANGES: dict[str, tuple[float, float]] = {
    "x_deg": (-90.0, 90.0),
    "y_deg": (-90.0, 90.0),
    "orientation_deg": (-360.0, 360.0),
    "spatial_frequency_cpd": (0.01, 20.0),
    "phase_deg": (-360.0, 360.0),
    "nx": (0.05, 3.0),
    "ny": (0.05, 3.0),
    "r_max_hz": (0.0, 300.0),
    "spontaneous_hz": (0.0, 50.0),
    "exponent": (1.0, 5.0),
    "c50": (0.01, 1.0),
    "end_inhibition": (0.0, 3.0),
    "surround_strength": (0.0, MAX_SURROUND_STRENGTH),
}

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


def draw_suppression_index(n_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Suppression indices drawn from Cavanaugh et al.'s (2002a) histogram.

    A bin is chosen in proportion to its count, then a value uniformly within it.
    """
    p = SUPPRESSION_INDEX_COUNTS / SUPPRESSION_INDEX_COUNTS.sum()
    b = rng.choice(len(p), size=n_cells, p=p)
    lo, hi = SUPPRESSION_INDEX_BINS[b], SUPPRESSION_INDEX_BINS[b + 1]
    return np.minimum(lo + (hi - lo) * rng.random(n_cells), 0.95)


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
    surround_strength : ndarray
        Weight ``k_s`` of the extra-classical surround in the normalisation signal
        (0: no surround suppression). ``None`` means 0 for every cell.
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

    def __post_init__(self) -> None:
        n = len(self.cell_type)
        if self.surround_strength is None:
            object.__setattr__(self, "surround_strength", np.zeros(n))
        for f in fields(self):
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
        """The table as a list of per-cell dicts (the protocol's explicit form)."""
        out = []
        for i in range(len(self)):
            cell: dict[str, Any] = {"type": str(self.cell_type[i])}
            for f in fields(self):
                if f.name in ("cell_type", "direction_sign"):
                    continue
                cell[f.name] = float(getattr(self, f.name)[i])
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
    spatial_frequency_cpd: float = 0.8,
) -> Population:
    """Draw a population from documented distributions.

    Distributions (cat area 17 near the area centralis, where Hubel & Wiesel recorded):

    * type: exactly ``round(fraction * n)`` cells of each type (largest remainders),
      in random order; default fractions :data:`DEFAULT_TYPE_FRACTIONS`;
    * RF position: Gaussian scatter of SD ``rf_scatter_deg`` about ``center_deg`` —
      RF scatter along a penetration is about one RF size (Hubel & Wiesel 1962);
    * orientation: uniform on [0°, 180°);
    * spatial frequency: log-normal, median ``spatial_frequency_cpd``, SD 0.1 log10
      units, truncated at ±0.2 (a factor of 1.6): the spread of optima among cells
      recorded at one eccentricity (Movshon, Thompson & Tolhurst 1978: 0.3–2 cpd near
      the area centralis over all eccentricities sampled);
    * phase: uniform (even and odd RFs; Jones & Palmer 1987);
    * ``nx`` ~ U(0.3, 0.45), ``ny`` ~ U(0.5, 0.8) (Ringach 2002's cluster);
    * ``r_max_hz`` ~ U(30, 70); ``spontaneous_hz`` ~ U(0.2, 2) for simple-like cells and
      U(1, 5) for complex-like cells (simple cells are quieter; Hubel & Wiesel 1962);
    * ``exponent`` ~ U(2, 3) and ``c50`` ~ U(0.1, 0.3) (Albrecht & Hamilton 1982);
    * direction sign ±1 at random for ``ds_simple``; ``end_inhibition`` 0.5 for
      ``end_stopped``: the two end zones together balance the centre, so a slit much
      longer than the RF silences the cell (Hubel & Wiesel 1965);
    * ``surround_strength`` from a suppression index drawn from Cavanaugh, Bair &
      Movshon's (2002a) distribution (:func:`draw_suppression_index`,
      :func:`surround_strength_for_index`).

    Examples
    --------
    >>> pop = make_population(8, np.random.default_rng(0))
    >>> len(pop), sorted(set(pop.cell_type)) == sorted(set(pop.cell_type) & set(CELL_TYPES))
    (8, True)
    """
    n_cells = check_int("n_cells", n_cells, lo=1, hi=1_000_000)
    fractions = dict(DEFAULT_TYPE_FRACTIONS if type_fractions is None else type_fractions)
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
    sf = spatial_frequency_cpd * 10 ** np.clip(rng.normal(0.0, 0.1, n_cells), -0.2, 0.2)
    columns = dict(
        cell_type=types,
        x_deg=center_deg[0] + rng.normal(0.0, rf_scatter_deg, n_cells),
        y_deg=center_deg[1] + rng.normal(0.0, rf_scatter_deg, n_cells),
        orientation_deg=rng.uniform(0.0, 180.0, n_cells),
        direction_sign=np.where(types == "ds_simple", rng.choice([-1, 1], n_cells), 0),
        spatial_frequency_cpd=sf,
        phase_deg=rng.uniform(0.0, 360.0, n_cells),
        nx=rng.uniform(0.3, 0.45, n_cells),
        ny=rng.uniform(0.5, 0.8, n_cells),
        r_max_hz=rng.uniform(*R_MAX_RANGE_HZ, n_cells),
        spontaneous_hz=np.where(
            simple_like, rng.uniform(0.2, 2.0, n_cells), rng.uniform(1.0, 5.0, n_cells)
        ),
        exponent=rng.uniform(2.0, 3.0, n_cells),
        c50=rng.uniform(0.1, 0.3, n_cells),
        end_inhibition=np.where(types == "end_stopped", 0.5, 0.0),
    )
    # Drawn last, so the columns above are those of earlier versions for the same seed.
    suppression = draw_suppression_index(n_cells, rng)
    columns["surround_strength"] = surround_strength_for_index(suppression, columns["exponent"])
    return Population(**columns)


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
    "exponent": 2.5,
    "c50": 0.2,
    # The median drawn surround: a suppression index of about 0.33 at exponent 2.5.
    "surround_strength": float(surround_strength_for_index(0.33, 2.5)),
}


def population_from_cells(cells: Sequence[Mapping[str, Any]]) -> Population:
    """Build a population from an explicit list of cells.

    Each cell is a mapping with ``type`` (one of :data:`CELL_TYPES`) and any of
    ``x_deg``, ``y_deg``, ``orientation_deg``, ``spatial_frequency_cpd``,
    ``phase_deg``, ``nx``, ``ny``, ``r_max_hz``, ``spontaneous_hz``, ``exponent``,
    ``c50``, ``end_inhibition``, ``surround_strength`` (default: the drawn population's
    median); a ``ds_simple`` cell may give
    ``preferred_direction_deg`` (orientation ± 90°) instead of, or with, the orientation.

    Examples
    --------
    >>> pop = population_from_cells([{"type": "simple", "orientation_deg": 45}])
    >>> float(pop.orientation_deg[0])
    45.0
    """
    if len(cells) == 0:
        raise ParameterError("cells", [], "expected at least one cell")
    columns: dict[str, list[Any]] = {f.name: [] for f in fields(Population)}
    allowed = {"type", "preferred_direction_deg", "end_inhibition", *_CELL_DEFAULTS}
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
        for key, value in values.items():
            columns[key].append(value)
    return Population(**{k: np.asarray(v) for k, v in columns.items()})


#: Subunits per block when Gabor weights are computed (see make_gabor_weights).
_GABOR_BLOCK = 512


def make_gabor_weights(
    positions_deg: np.ndarray,
    *,
    x_deg: np.ndarray,
    y_deg: np.ndarray,
    orientation_deg: np.ndarray,
    spatial_frequency_cpd: np.ndarray,
    phase_deg: np.ndarray,
    sigma_across_deg: np.ndarray,
    sigma_along_deg: np.ndarray,
) -> np.ndarray:
    """Gabor weights at LGN positions, one column per subunit.

    The carrier runs across the preferred bar orientation (its wavefronts are parallel
    to the bar): with ``u`` the coordinate along the direction ``orientation + 90°``
    and ``v`` along the bar, ``g = exp(−u²/2σ_u² − v²/2σ_v²) cos(2π f u + phase)``.

    Returns
    -------
    ndarray, shape (n_positions, n_subunits)

    Examples
    --------
    >>> g = make_gabor_weights(np.array([[0.0, 0.0], [0.0, 0.5]]), x_deg=np.zeros(1),
    ...     y_deg=np.zeros(1), orientation_deg=np.zeros(1), spatial_frequency_cpd=np.ones(1),
    ...     phase_deg=np.zeros(1), sigma_across_deg=np.ones(1), sigma_along_deg=np.ones(1))
    >>> g[:, 0].round(3).tolist()  # half a period across a horizontal bar flips the sign
    [1.0, -0.882]
    """
    params = [
        np.broadcast_to(np.asarray(p, dtype=float), np.shape(x_deg))
        for p in (
            x_deg, y_deg, orientation_deg, spatial_frequency_cpd, phase_deg,
            sigma_across_deg, sigma_along_deg,
        )
    ]  # fmt: skip
    out = np.empty((positions_deg.shape[0], params[0].size))
    # Column blocks keep the temporaries in cache (10,000 cells: 1.7 s -> ~0.5 s); the
    # arithmetic is elementwise, so the result is the same to the bit.
    for j in range(0, out.shape[1], _GABOR_BLOCK):
        x0, y0, ori, sf, ph, s_u, s_v = (p[None, j : j + _GABOR_BLOCK] for p in params)
        out[:, j : j + _GABOR_BLOCK] = gabor(
            positions_deg[:, 0:1], positions_deg[:, 1:2], x0_deg=x0, y0_deg=y0,
            orientation_deg=ori, spatial_frequency_cpd=sf, phase_deg=ph,
            sigma_across_deg=s_u, sigma_along_deg=s_v,
        )  # fmt: skip
    return out


def gabor(
    x_deg: Any,
    y_deg: Any,
    *,
    x0_deg: Any = 0.0,
    y0_deg: Any = 0.0,
    orientation_deg: Any = 0.0,
    spatial_frequency_cpd: Any = 0.8,
    phase_deg: Any = 0.0,
    sigma_across_deg: Any = 0.5,
    sigma_along_deg: Any = 0.8,
) -> np.ndarray:
    """The 2-D Gabor of v1lab's receptive fields, broadcasting over every argument.

    With ``u`` the coordinate from ``(x0, y0)`` along ``orientation + 90°`` (across the
    preferred bar) and ``v`` along the bar:
    ``exp(−u²/2σ_u² − v²/2σ_v²) cos(2π f u + phase)`` (Jones & Palmer 1987).

    Examples
    --------
    >>> float(gabor(0.0, 0.0)), round(float(gabor(0.0, 0.625)), 3)  # half a period up
    (1.0, -0.458)
    """
    dx = np.asarray(x_deg, dtype=float) - x0_deg
    dy = np.asarray(y_deg, dtype=float) - y0_deg
    theta = np.deg2rad(orientation_deg)
    u = -dx * np.sin(theta) + dy * np.cos(theta)
    v = dx * np.cos(theta) + dy * np.sin(theta)
    envelope = np.exp(-0.5 * (u / sigma_across_deg) ** 2 - 0.5 * (v / sigma_along_deg) ** 2)
    carrier = np.cos(2 * np.pi * spatial_frequency_cpd * u + np.deg2rad(phase_deg))
    return envelope * carrier


@dataclass
class _Subunits:
    """Per-subunit parameters, accumulated while laying out a population."""

    cell: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    phase: list[float] = field(default_factory=list)
    lagged: list[bool] = field(default_factory=list)
    gain: list[float] = field(default_factory=list)

    def add(
        self,
        cell: int,
        x: float,
        y: float,
        phase: float,
        *,
        lagged: bool = False,
        gain: float = 1.0,
    ) -> int:
        self.cell.append(cell)
        self.x.append(x)
        self.y.append(y)
        self.phase.append(phase)
        self.lagged.append(lagged)
        self.gain.append(gain)
        return len(self.cell) - 1


class V1Layer:
    """The V1 stage: LGN activity → firing rates of every cell of a population.

    It holds no temporal state (the LGN stage carries it), so block-wise and one-shot
    processing agree exactly.

    Parameters
    ----------
    population : Population
    retina : Retina
    lgn_positions_deg : ndarray, shape (n_positions, 2)
    pool_scale : float
        Width of the Gaussian normalisation pool in units of the RF envelope.
    ds_reference_hz : float
        Temporal frequency at which the lagged half of a direction-selective RF is
        matched in gain to the non-lagged half.
    end_zone_offset : float
        Distance of the end zones from the RF centre, in SDs of the envelope along the bar.
    """

    def __init__(
        self,
        population: Population,
        retina: Retina,
        lgn_positions_deg: np.ndarray,
        *,
        pool_scale: float = 1.0,
        ds_reference_hz: float = 3.0,
        end_zone_offset: float = 2.5,
    ) -> None:
        self.population = population
        pop = population
        n_pos = lgn_positions_deg.shape[0]
        sigma_across = pop.nx / pop.spatial_frequency_cpd
        sigma_along = pop.ny / pop.spatial_frequency_cpd
        theta = np.deg2rad(pop.orientation_deg)
        along = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        h_fast, h_lag = (
            abs(compute_kernel_response(retina.frame_rate_hz, tau, beta, ds_reference_hz)[0])
            for tau, beta in (
                (retina.tau_s, retina.beta),
                (retina.lagged_tau_s, retina.lagged_beta),
            )
        )

        subs = _Subunits()
        self._groups: dict[str, np.ndarray] = {}
        groups: dict[str, list[list[int]]] = {t: [] for t in CELL_TYPES}
        groups_cells: dict[str, list[int]] = {t: [] for t in CELL_TYPES}
        for i in range(len(pop)):
            kind = str(pop.cell_type[i])
            x, y, ph = float(pop.x_deg[i]), float(pop.y_deg[i]), float(pop.phase_deg[i])
            if kind == "simple":
                cols = [subs.add(i, x, y, ph)]
            elif kind == "ds_simple":
                # Halves scaled so their sum at the preferred direction matches one subunit.
                sign = float(pop.direction_sign[i])
                cols = [
                    subs.add(i, x, y, ph, gain=0.5),
                    subs.add(i, x, y, ph + sign * 90.0, lagged=True, gain=0.5 * h_fast / h_lag),
                ]
            elif kind == "complex":
                cols = [subs.add(i, x, y, ph), subs.add(i, x, y, ph + 90.0)]
            else:
                offset = end_zone_offset * sigma_along[i] * along[i]
                cols = []
                for sx, sy in (
                    (x, y),
                    (x + offset[0], y + offset[1]),
                    (x - offset[0], y - offset[1]),
                ):
                    cols += [subs.add(i, sx, sy, ph), subs.add(i, sx, sy, ph + 90.0)]
            groups[kind].append(cols)
            groups_cells[kind].append(i)
        self._groups = {k: np.asarray(v, dtype=int) for k, v in groups.items() if v}
        self._group_cells = {k: np.asarray(v, dtype=int) for k, v in groups_cells.items() if v}

        cell = np.asarray(subs.cell)
        gabor = make_gabor_weights(
            lgn_positions_deg,
            x_deg=np.asarray(subs.x),
            y_deg=np.asarray(subs.y),
            orientation_deg=pop.orientation_deg[cell],
            spatial_frequency_cpd=pop.spatial_frequency_cpd[cell],
            phase_deg=np.asarray(subs.phase),
            sigma_across_deg=sigma_across[cell],
            sigma_along_deg=sigma_along[cell],
        )
        dog_gain = compute_dog_gain(
            pop.spatial_frequency_cpd,
            center_sigma_deg=retina.center_sigma_deg,
            surround_sigma_deg=retina.surround_sigma_deg,
            surround_weight=retina.surround_weight,
        )
        if np.any(dog_gain <= 0):
            bad = int(np.argmin(dog_gain))
            raise ParameterError(
                f"cells[{bad}].spatial_frequency_cpd",
                float(pop.spatial_frequency_cpd[bad]),
                "expected a frequency the LGN passes (its DoG gain there is not positive)",
            )
        # Unit response to the subunit's optimal grating of contrast 1 through the DoG
        # (in column blocks, as make_gabor_weights, for the cache).
        response = np.empty(len(cell), dtype=complex)
        sub_x, sub_y = np.asarray(subs.x), np.asarray(subs.y)
        for j in range(0, len(cell), _GABOR_BLOCK):
            block = slice(j, j + _GABOR_BLOCK)
            dx = lgn_positions_deg[:, 0:1] - sub_x[None, block]
            dy = lgn_positions_deg[:, 1:2] - sub_y[None, block]
            th = theta[cell[block]][None, :]
            u = -dx * np.sin(th) + dy * np.cos(th)
            carrier = np.exp(2j * np.pi * pop.spatial_frequency_cpd[cell[block]][None, :] * u)
            response[block] = (gabor[:, block] * carrier).sum(axis=0)
        optimal = np.abs(response) * dog_gain[cell]
        if np.any(optimal <= 1e-9):
            bad = int(cell[np.argmin(optimal)])
            raise ParameterError(
                f"cells[{bad}]",
                f"rf at ({pop.x_deg[bad]:g}, {pop.y_deg[bad]:g}) deg",
                "expected the RF to lie inside the LGN mosaic (retina.lgn_extent_deg)",
            )
        # Contrast in the response function is grating contrast: a subunit's drive is 1
        # for its optimal grating of contrast 1 drifting at the reference temporal
        # frequency, so ``c50`` is the semi-saturation contrast that Albrecht & Hamilton
        # (1982) measured with drifting gratings, not a contrast scaled down by the LGN's
        # temporal gain.
        gabor = gabor * (np.asarray(subs.gain) / (optimal * h_fast))[None, :]

        lagged = np.asarray(subs.lagged)
        # Push–pull: where the Gabor is positive, ON cells excite and OFF cells inhibit,
        # and the reverse where it is negative. For small signals (ON − OFF)/2 is the
        # LGN's linear response, so each subunit is the Gabor-weighted linear RF: +w/2 on
        # the ON and exactly −w/2 on the OFF cells of its channel (non-lagged or lagged).
        # Only w/2 is stored, in two compact blocks (the full matrix over the four channel
        # blocks is :attr:`weights`): a subunit's drive is (ON − OFF) @ w/2 over n_pos
        # rows instead of 4 n_pos (4x fewer flops, 4x less memory). Columns are regrouped
        # non-lagged first; _compact_groups index the new order.
        half = flush_tiny((gabor / 2.0).astype(np.float32))
        order = np.concatenate([np.flatnonzero(~lagged), np.flatnonzero(lagged)])
        self._order = order
        self._n_nonlagged = int((~lagged).sum())
        self._w_nonlagged = np.ascontiguousarray(half[:, order[: self._n_nonlagged]])
        self._w_lagged = np.ascontiguousarray(half[:, order[self._n_nonlagged :]])
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        self._compact_groups = {k: position[v] for k, v in self._groups.items()}

        # Untuned normalisation pool: the summed (rectified, ON + OFF) LGN activity in a
        # Gaussian around each RF. Pooled linearly, it grows in proportion to a small
        # stimulus's area, as the drive does, so a spot inside one subregion drives the
        # cell as strongly as its contrast warrants; pooled as an RMS it grew only as the
        # square root of the area and silenced small stimuli (measured: a 0.6-deg spot at
        # the centre of an ON subregion gave N = 2 D).
        # The classical pool has the RF's own envelope (untuned: no carrier), so it
        # fills exactly as the drive does when a grating grows to the RF's size, and a
        # cell with no surround keeps its response as the grating grows further.
        s_u, s_v = pool_scale * sigma_across, pool_scale * sigma_along
        sigma_surround = SURROUND_SCALE * np.maximum(s_u, s_v)
        pool = np.empty((n_pos, len(pop)))
        for j in range(0, len(pop), _GABOR_BLOCK):
            block = slice(j, j + _GABOR_BLOCK)
            dx = lgn_positions_deg[:, 0:1] - pop.x_deg[None, block]
            dy = lgn_positions_deg[:, 1:2] - pop.y_deg[None, block]
            th = theta[None, block]
            u = -dx * np.sin(th) + dy * np.cos(th)
            v = dx * np.cos(th) + dy * np.sin(th)
            g = np.exp(-0.5 * (u / s_u[None, block]) ** 2 - 0.5 * (v / s_v[None, block]) ** 2)
            pool[:, block] = g / g.sum(axis=0, keepdims=True)
            # The extra-classical surround: a Gaussian SURROUND_SCALE times wider,
            # weighted by each cell's surround_strength, in the same matrix (one
            # product serves both).
            g = np.exp(-0.5 * (dx**2 + dy**2) / sigma_surround[None, block] ** 2)
            k_s = pop.surround_strength[None, block]
            pool[:, block] += k_s * g / g.sum(axis=0, keepdims=True)
        # Scaled so that N equals the drive D for the cell's optimal grating when it
        # covers only the classical RF: over the pool a sinusoid of amplitude a has mean
        # |a sin| = 2a / pi.
        scale = np.pi / (2.0 * dog_gain * h_fast)
        self.pool = flush_tiny(pool * scale[None, :]).astype(np.float32)

        self._r_max = pop.r_max_hz.astype(np.float32)
        self._spont = pop.spontaneous_hz.astype(np.float32)
        self._n = pop.exponent.astype(np.float32)
        self._c50n = (pop.c50**pop.exponent).astype(np.float32)
        self._end_k = pop.end_inhibition.astype(np.float32)

    @property
    def n_subunits(self) -> int:
        return self._order.size

    @property
    def weights(self) -> np.ndarray:
        """The V1 weights over all LGN channels, (4 n_pos, n_subunits) float32.

        Rows are RetinaFilter's channel blocks (ON, OFF non-lagged; ON, OFF lagged),
        columns the subunits in population order. Built on request from the compact
        blocks the simulation uses.
        """
        n_pos, n_nl = self._w_nonlagged.shape[0], self._n_nonlagged
        out = np.zeros((4 * n_pos, self.n_subunits), dtype=np.float32)
        nonlagged, lagged = self._order[:n_nl], self._order[n_nl:]
        out[:n_pos, nonlagged] = self._w_nonlagged
        out[n_pos : 2 * n_pos, nonlagged] = -self._w_nonlagged
        out[2 * n_pos : 3 * n_pos, lagged] = self._w_lagged
        out[3 * n_pos :, lagged] = -self._w_lagged
        return out

    def _subunit_responses(self, lgn: np.ndarray) -> np.ndarray:
        """``lgn @ self.weights`` with columns in the order of ``_compact_groups``.

        Equal to the full product in exact arithmetic (see ``__init__``); the float32
        sums differ only by rounding.
        """
        n_pos = self._w_nonlagged.shape[0]
        lgn = np.asarray(lgn)
        parts = []
        if self._w_nonlagged.shape[1]:
            parts.append((lgn[:, :n_pos] - lgn[:, n_pos : 2 * n_pos]) @ self._w_nonlagged)
        if self._w_lagged.shape[1]:
            parts.append((lgn[:, 2 * n_pos : 3 * n_pos] - lgn[:, 3 * n_pos :]) @ self._w_lagged)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def compute_drive(self, lgn: np.ndarray) -> np.ndarray:
        """Rectified drive ``D`` (n_frames, n_cells) from the LGN channels."""
        s = self._subunit_responses(lgn)
        drive = np.empty((s.shape[0], len(self.population)), dtype=np.float32)
        for kind, cols in self._compact_groups.items():
            cells = self._group_cells[kind]
            if kind in ("simple", "ds_simple"):
                d = np.maximum(s[:, cols].sum(axis=2), 0.0)
            elif kind == "complex":
                d = np.sqrt((s[:, cols] ** 2).sum(axis=2))
            else:
                energy = np.sqrt(s[:, cols[:, 0::2]] ** 2 + s[:, cols[:, 1::2]] ** 2)
                d = np.maximum(
                    energy[:, :, 0] - self._end_k[cells] * (energy[:, :, 1] + energy[:, :, 2]), 0.0
                )
            drive[:, cells] = d
        return drive

    def compute_normalisation(self, lgn: np.ndarray) -> np.ndarray:
        """Normalisation signal ``N`` (n_frames, n_cells): mean rectified contrast, drive units.

        Read from the non-lagged push–pull signals (ON − OFF)/2, which pass through the
        same rectification as the drive, so ``D/N`` for the optimal stimulus does not
        fall at high contrast.
        """
        n_pos = self.pool.shape[0]
        push_pull = 0.5 * (lgn[:, :n_pos] - lgn[:, n_pos : 2 * n_pos])
        return np.abs(push_pull) @ self.pool

    def process(self, lgn: np.ndarray) -> np.ndarray:
        """Firing rates (spikes/s), shape (n_frames, n_cells), float32, from LGN channels."""
        drive = self.compute_drive(lgn)
        norm = self.compute_normalisation(lgn)
        num = np.power(drive, self._n)
        den = self._c50n + np.power(norm, self._n)
        return self._spont + self._r_max * num / den
