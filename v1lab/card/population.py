"""The card's penetration: which cells are recorded, and the retina each is seen through.

All the card's cells have their receptive fields at one place (a penetration, centred on
the retina grid). Two things come from here and nowhere else:

* :func:`make_card_population` and :func:`card_retina_section` — **the seam** between
  the card and the model. They return the species' frozen cortex
  (:func:`v1lab.model.population.make_population` with ``species``; its distributions
  are :mod:`v1lab.model.distributions`) and the default :class:`~v1lab.model.retina.Retina`,
  whose scale the bands below change; the battery, the analyses and the scores do not
  depend on how the cells were drawn.
* The **bands**. A cell preferring 8 c/deg cannot be measured through a retina whose LGN
  mosaic (0.2° spacing, 8 pixels/deg, centre σ 0.15°) passes little above 2.5 c/deg. Such
  cells live where the mosaic is fine: receptive-field centres of primate P and M cells
  grow with eccentricity while their integrated centre and surround gains, and the
  surround/centre gain ratio (0.55 on average), stay the same across the visual field
  (Croner & Kaplan 1995); parafoveal P-cell centres have Gaussian radii of 2–4 arcmin
  (Lee et al. 1998). So each cell is measured through the species' retina with every
  spatial parameter scaled by its band's factor ``k`` (a power of two;
  :func:`scale_retina_section`), and the battery's stimuli are scaled with it (spatial
  frequencies × k, sizes, positions and speeds ÷ k). The band is chosen from the cell's
  preferred spatial frequency, as an experimenter chooses the eccentricity to record at:
  the band's top frequency is half an octave below the frequency where the retina's
  difference-of-Gaussians gain falls to half its peak (:func:`compute_band_top_cpd`),
  so a cell's tuning is seen at least half an octave above its preference.

References
----------
Croner LJ, Kaplan E (1995) Receptive fields of P and M ganglion cells across the primate
retina. Vision Res 35:7-24.
Lee BB, Kremers J, Yeh T (1998) Receptive fields of primate retinal ganglion cells
studied with a novel technique. Vis Neurosci 15:161-175.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.model.learned import load_field_file, make_learned_population
from v1lab.model.population import SPECIES_TYPE_FRACTIONS, Population, make_population
from v1lab.model.retina import Retina, compute_dog_gain, compute_resolvable

__all__ = [
    "SPECIES",
    "assign_bands",
    "card_retina_section",
    "compute_band_top_cpd",
    "make_card_population",
    "scale_retina_section",
]

#: Screen and LGN mosaic of the card's base band (deg): wide enough for the surround
#: (:func:`card_retina_section`).
CARD_EXTENT_DEG = 14.0
CARD_LGN_EXTENT_DEG = 10.0

#: The species a card can be drawn for: cat area 17 (Hubel & Wiesel's) and macaque V1
#: (the benchmarks of Marques, Schrimpf & DiCarlo 2021).
SPECIES = ("cat", "macaque")

# Retina fields that are lengths in degrees (divided by the band factor) and densities
# per degree (multiplied by it). Temporal fields and gains are left alone.
_LENGTH_FIELDS = (
    "extent_deg",
    "lgn_extent_deg",
    "lgn_spacing_deg",
    "center_sigma_deg",
    "surround_sigma_deg",
)
_DENSITY_FIELDS = ("pixels_per_deg",)


def make_card_population(
    species: str, n_cells: int, rng: np.random.Generator, *, fields: str | None = None
) -> Population:
    """The cells of a card: ``n_cells`` drawn cells, every RF at the penetration (0, 0).

    **Seam.** The species' frozen cortex, :func:`v1lab.model.population.make_population`
    with ``species`` (no RF scatter, since a card penetration puts every RF at one
    place); nothing else in :mod:`v1lab.card` knows how the cells were drawn.

    With ``fields`` (a fields file of ``v1lab learn``; issue 15) the cells are learned
    ones (:func:`v1lab.model.learned.make_learned_population`): simple cells in the
    species' share of simple-like cells (simple and direction-selective simple), complex
    cells in the rest, everything but the RF drawn as for the species' cells.

    Parameters
    ----------
    species : {'cat', 'macaque'}
    n_cells : int
    rng : numpy.random.Generator
    fields : str, optional
        Path of a fields file (or the folder ``v1lab learn`` wrote).

    Examples
    --------
    >>> pop = make_card_population("macaque", 4, np.random.default_rng(0))
    >>> len(pop), float(abs(pop.x_deg).max()), float(abs(pop.y_deg).max())
    (4, 0.0, 0.0)
    """
    check_choice("species", species, SPECIES)
    n_cells = check_int("cells", n_cells, lo=1, hi=100_000)
    if fields is not None:  # learned cells (issue 15)
        mix = SPECIES_TYPE_FRACTIONS[species]
        simple = mix.get("simple", 0.0) + mix.get("ds_simple", 0.0)
        pop = make_learned_population(
            load_field_file(fields), n_cells, rng, rf_scatter_deg=0.0, species=species,
            type_fractions={"simple": simple, "complex": 1.0 - simple},
        )  # fmt: skip
    else:
        pop = make_population(
            n_cells, rng, center_deg=(0.0, 0.0), rf_scatter_deg=0.0, species=species
        )
    return replace(pop, x_deg=np.zeros(n_cells), y_deg=np.zeros(n_cells))


def card_retina_section(species: str) -> dict[str, Any]:
    """The species' retina as a protocol ``[retina]`` section (band factor 1).

    **Seam**, like :func:`make_card_population`: the default
    :class:`~v1lab.model.retina.Retina`'s cells for both species (Croner & Kaplan 1995
    found the primate retina's centre and surround gains the same across the field; the
    bands set its scale), on a wider field: a 14° screen and a 10° LGN mosaic instead of
    10° and 6°. A cell's extra-classical surround is pooled from the mosaic, and the
    size series must grow past it to where the suppression levels off, as Cavanaugh,
    Bair & Movshon (2002a) grew their gratings: with the 6° mosaic the surround was cut
    at about 6 periods and the measured surround diameters piled up at the largest size
    tested (278 of 450 macaque cells; scored 0.62 against their histogram, 0.80 on the
    wider field).

    Examples
    --------
    >>> card_retina_section("cat")["lgn_spacing_deg"], card_retina_section("cat")["lgn_extent_deg"]
    (0.2, 10.0)
    """
    check_choice("species", species, SPECIES)
    return asdict(Retina(extent_deg=CARD_EXTENT_DEG, lgn_extent_deg=CARD_LGN_EXTENT_DEG))


def scale_retina_section(section: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A retina section whose spatial scale is finer by ``factor`` (a pure function).

    Every length in degrees (``extent_deg``, ``lgn_extent_deg``, ``lgn_spacing_deg``,
    ``center_sigma_deg``, ``surround_sigma_deg``) is divided by ``factor`` and
    ``pixels_per_deg`` multiplied by it; temporal parameters, the surround's integrated
    weight and the maintained discharge are unchanged, as Croner & Kaplan (1995) found
    the integrated centre and surround gains constant across the visual field. The
    grid keeps its number of pixels and the mosaic its number of LGN cells, so a band
    costs the same to simulate whatever its factor. Missing fields take the
    :class:`~v1lab.model.retina.Retina` defaults.

    Parameters
    ----------
    section : mapping
        A ``[retina]`` section (any subset of :class:`~v1lab.model.retina.Retina`'s fields).
    factor : float
        > 1: a finer mosaic (nearer the fovea); < 1: a coarser one.

    Examples
    --------
    >>> s = scale_retina_section({"lgn_spacing_deg": 0.2, "pixels_per_deg": 8.0}, 4)
    >>> s["lgn_spacing_deg"], s["pixels_per_deg"], s["extent_deg"]
    (0.05, 32.0, 2.5)
    """
    factor = check_number("factor", factor, lo=0, lo_open=True)
    out = {**asdict(Retina()), **dict(section)}
    for name in _LENGTH_FIELDS:
        out[name] = float(out[name]) / factor
    for name in _DENSITY_FIELDS:
        out[name] = float(out[name]) * factor
    Retina(**out)  # still a valid retina
    return out


def compute_band_top_cpd(section: Mapping[str, Any]) -> float:
    """Highest preferred spatial frequency measured through this retina (c/deg).

    Half an octave below the frequency above the peak at which the LGN's
    difference-of-Gaussians gain falls to half its peak value: a cell preferring this
    frequency still has half an octave of its high side passed at ≥ half gain.

    Examples
    --------
    >>> round(compute_band_top_cpd(card_retina_section("cat")), 2)
    1.01
    """
    r = Retina(**{**asdict(Retina()), **dict(section)})
    f = np.linspace(1e-3, 4.0 / r.center_sigma_deg / (2 * math.pi), 20_000)
    gain = compute_dog_gain(
        f,
        center_sigma_deg=r.center_sigma_deg,
        surround_sigma_deg=r.surround_sigma_deg,
        surround_weight=r.surround_weight,
    )
    peak = int(np.argmax(gain))
    below = np.flatnonzero(gain[peak:] <= 0.5 * gain[peak])
    if len(below) == 0:
        raise ParameterError("retina", dict(section), "expected a DoG gain that falls off")
    return float(f[peak + below[0]] / math.sqrt(2.0))


def assign_bands(
    spatial_frequency_cpd: Any,
    band_top_cpd: float,
    *,
    nx: Any = None,
    lgn_spacing_deg: float | None = None,
) -> np.ndarray:
    """Band factor of each cell: the power of two ``k`` with ``f / k`` in (top/2, top].

    With ``nx`` and ``lgn_spacing_deg`` (the base retina's), a cell whose field the
    band's mosaic (spacing ``lgn_spacing_deg / k``) does not resolve
    (:func:`v1lab.model.retina.compute_resolvable`: a field narrower than the LGN
    spacing) goes to the next finer band, until one resolves it: there its frequency is
    below the band's range, which the spatial-frequency series still covers (down to
    ``f_ref · 2^-2.5``). Of 500 drawn macaque cells, 15 (narrow, one-lobed fields at the
    top of their band) move.

    Examples
    --------
    >>> assign_bands([0.3, 0.6, 1.0, 1.1, 8.0], 1.0).tolist()
    [0.5, 1.0, 1.0, 2.0, 8.0]
    >>> assign_bands([1.0, 1.0], 1.0, nx=[0.4, 0.1], lgn_spacing_deg=0.2).tolist()
    [1.0, 2.0]
    """
    f = np.asarray(spatial_frequency_cpd, dtype=float)
    top = check_number("band_top_cpd", band_top_cpd, lo=0, lo_open=True)
    factors = 2.0 ** np.ceil(np.log2(f / top) - 1e-12)
    if nx is None or lgn_spacing_deg is None:
        return factors
    nx = np.asarray(nx, dtype=float)
    for _ in range(8):  # each round halves the spacing; nx >= 0.05 fits within a few
        coarse = ~compute_resolvable(f, nx, lgn_spacing_deg=lgn_spacing_deg / factors)
        if not coarse.any():
            break
        factors[coarse] *= 2.0
    return factors
