"""A nerve conduction study, read as a clinic reads it.

A clinical motor conduction study stimulates the nerve at two sites and divides their
distance by the difference of the two latencies (Kimura 2013, ch. 5); on a simulated
fibre the same number is the distance between two electrodes over the difference of the
spike's crossing times there (:func:`v1lab.axon.measure.compute_electrode_velocity`).

:func:`classify_velocity` reads a velocity against the lower limit of normal (LLN) of the
nerve studied:

* ``"normal"`` — at or above the LLN. Median motor nerve, forearm: 47 m/s, the lower
  end of Buschbacher's (1999) normal range, mean − 2 SD of his 249 subjects'
  57 ± 5 m/s (the paper derives its normal range as mean ± 2 SD, and at the 3rd
  percentile; that percentile value could not be read from here);
* ``"slowed"`` — below the LLN but less than 30 % below it (axonal loss or mild
  demyelination cannot be told apart on velocity alone);
* ``"demyelinating range"`` — 30 % or more below the LLN: the motor-velocity criterion
  (b) of the EFNS/PNS guideline for chronic inflammatory demyelinating
  polyradiculoneuropathy (Van den Bergh et al. 2010), which asks for it in two nerves
  for "definite" electrodiagnosis (one nerve: "possible"). The guideline's 2021 revision
  (EAN/PNS; Van den Bergh et al. 2021) keeps velocity among the demyelinating criteria;
  its thresholds were not checked here;
* ``"conduction block"`` — the spike never reached the proximal site.

Sources checked (2026-12-07, through stored copies of the abstracts and guideline
tables): Buschbacher 1999 (PMID 10573090: 249 subjects, NCV 57 ± 5 m/s, normal range
mean ± 2 SD and 3rd percentile); Van den Bergh et al. 2010 (title, journal, pages, and
criterion (b) "reduction of motor conduction velocity ≥ 30 % below LLN" as tabulated
from the guideline). Not confirmed: the chapter of Kimura 2013 (cited from memory for
the two-site method, which is standard).

References
----------
Buschbacher RM (1999). Median nerve motor conduction to the abductor pollicis brevis.
Am J Phys Med Rehabil 78(6 Suppl):S1–S8. doi:10.1097/00002060-199911001-00002
Kimura J (2013). Electrodiagnosis in Diseases of Nerve and Muscle: Principles and
Practice, 4th ed. Oxford UP. (not confirmed here)
Van den Bergh PYK, Hadden RDM, Bouche P, et al. (2010). European Federation of
Neurological Societies/Peripheral Nerve Society guideline on management of chronic
inflammatory demyelinating polyradiculoneuropathy: report of a joint task force —
first revision. Eur J Neurol 17:356–363. doi:10.1111/j.1468-1331.2009.02930.x
Van den Bergh PYK, van Doorn PA, Hadden RDM, et al. (2021). European Academy of
Neurology/Peripheral Nerve Society guideline on diagnosis and treatment of chronic
inflammatory demyelinating polyradiculoneuropathy: second revision. Eur J Neurol
28:3556–3583.
"""

from __future__ import annotations

import math

from v1lab._validate import check_number

__all__ = ["DEMYELINATING_FRACTION", "MEDIAN_MOTOR_LLN_M_S", "classify_velocity"]

#: Lower limit of normal of median motor conduction velocity (m/s): Buschbacher's (1999)
#: mean − 2 SD, 57 − 2 × 5.
MEDIAN_MOTOR_LLN_M_S = 47.0
#: EFNS/PNS 2010: motor velocity reduced by at least this fraction below the LLN.
DEMYELINATING_FRACTION = 0.30


def classify_velocity(velocity_m_s: float, lower_limit_m_s: float = MEDIAN_MOTOR_LLN_M_S) -> str:
    """The clinic's reading of a conduction velocity (module notes).

    Examples
    --------
    >>> [classify_velocity(v) for v in (57.0, 45.0, 30.0, float("nan"))]
    ['normal', 'slowed', 'demyelinating range', 'conduction block']
    """
    lln = check_number("lower_limit_m_s", lower_limit_m_s, lo=1, hi=200, unit="m/s")
    if velocity_m_s is None or not math.isfinite(velocity_m_s):
        return "conduction block"
    if velocity_m_s >= lln:
        return "normal"
    if velocity_m_s > (1.0 - DEMYELINATING_FRACTION) * lln:
        return "slowed"
    return "demyelinating range"
