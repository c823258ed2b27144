"""The population card: a fixed battery on many cells, scored against published data.

``v1lab card`` draws cells of a species with their receptive fields at one place
(:mod:`v1lab.card.population` — the seam to the model's cortex), runs a fixed battery of
protocols on them (:mod:`v1lab.card.battery`: gratings by orientation, spatial frequency
and size, spot maps, slits of several lengths, blanks, repeats), measures each property
the way its source paper did (:mod:`v1lab.card.properties`), and compares each
property's distribution with the published one by KS similarity, as Marques, Schrimpf &
DiCarlo (2021) score V1 models (:mod:`v1lab.card.similarity`, data in
:mod:`v1lab.card.published`). It hands on a :class:`~v1lab.card.scores.Card` and a folder
(:mod:`v1lab.card.run`): ``card.csv``, ``cells.csv``, a figure per property
(:mod:`v1lab.card.figures`) and ``card.html`` (:mod:`v1lab.card.page`).

It sits at the top of the flow beside :mod:`v1lab.report`: it uses experiment, analysis,
plots, io, protocol and model, and nothing below imports it.
"""

from v1lab.card.battery import BatterySpec, make_battery_plan, run_battery
from v1lab.card.population import (
    assign_bands,
    card_retina_section,
    compute_band_top_cpd,
    make_card_population,
    scale_retina_section,
)
from v1lab.card.published import MACAQUE, PublishedDistribution, published_for
from v1lab.card.run import main, save_card
from v1lab.card.scores import Card, compute_card
from v1lab.card.similarity import compute_histogram_ks_similarity, compute_property_similarity

__all__ = [
    "MACAQUE",
    "BatterySpec",
    "Card",
    "PublishedDistribution",
    "assign_bands",
    "card_retina_section",
    "compute_band_top_cpd",
    "compute_card",
    "compute_histogram_ks_similarity",
    "compute_property_similarity",
    "main",
    "make_battery_plan",
    "make_card_population",
    "published_for",
    "run_battery",
    "save_card",
    "scale_retina_section",
]
