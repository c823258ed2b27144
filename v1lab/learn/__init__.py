"""Why V1 looks like this: receptive fields learned from natural images.

The interpretive model beside the descriptive (tuning, maps) and mechanistic (LGN → V1)
ones: simple-cell fields are what an efficient, sparse code of natural images looks like
(Olshausen & Field 1996; Bell & Sejnowski 1997; van Hateren & van der Schaaf 1998). The
stage takes photographs and hands on learned fields, their Gabor fits and figures:

- :mod:`~v1lab.learn.images` — scikit-image's photographs, or a folder of one's own;
- :mod:`~v1lab.learn.whitening` — Olshausen & Field's (1997) whitening filter;
- :mod:`~v1lab.learn.patches` — seeded patch sampling;
- :mod:`~v1lab.learn.sparse_coding` — LCA and FISTA inference, the Hebbian update;
- :mod:`~v1lab.learn.learning` — settings, state and the resumable, seeded loop;
- :mod:`~v1lab.learn.ica` — FastICA on the same patches, the comparison model;
- :mod:`~v1lab.learn.fields` — the fields file, Gabor fits (the project's fitter), summary;
- :mod:`~v1lab.learn.figures` — fields by orientation, objective, nx–ny over Ringach 2002;
- :mod:`~v1lab.learn.cells` — learned fields as the RFs of model simple and complex cells;
- :mod:`~v1lab.learn.run` — ``v1lab learn``.

It sits near the top of the flow, under :mod:`v1lab.cli`: it uses analysis (the Gabor
fitter), plots, io, the experiment's circuit, the model's V1 layer (through its
``rf_images`` hook) and the model's published Ringach data; nothing but the command line imports
it. scikit-image and scikit-learn come with the ``learn`` extra
(``pip install 'v1lab[learn]'``) and are imported only inside the functions that use
them.
"""

from v1lab.learn.cells import compute_quadrature_field, make_learned_cells, make_learned_circuit
from v1lab.learn.fields import (
    EDGE_CYCLES,
    FIT_COLUMNS,
    GOOD_FIT_R2,
    FieldSummary,
    LearnedFields,
    compute_field_fits,
    compute_field_summary,
    compute_orientation_gap,
    load_fields,
    make_pixel_grid,
    save_fields,
)
from v1lab.learn.ica import compute_ica_fields
from v1lab.learn.images import DEFAULT_IMAGES, load_image_folder, load_natural_images
from v1lab.learn.learning import (
    INFERENCE,
    LearnSettings,
    LearnState,
    infer_codes,
    learn_dictionary,
    learn_from_batches,
)
from v1lab.learn.patches import sample_patches
from v1lab.learn.sparse_coding import (
    compute_sparse_objective,
    compute_step_size,
    infer_fista,
    infer_lca,
    make_unit_rows,
    update_dictionary_hebbian,
)
from v1lab.learn.whitening import (
    compute_radial_power_spectrum,
    compute_whitened,
    make_whitening_filter,
)

__all__ = [
    "DEFAULT_IMAGES",
    "EDGE_CYCLES",
    "FIT_COLUMNS",
    "GOOD_FIT_R2",
    "INFERENCE",
    "FieldSummary",
    "LearnSettings",
    "LearnState",
    "LearnedFields",
    "compute_field_fits",
    "compute_field_summary",
    "compute_ica_fields",
    "compute_orientation_gap",
    "compute_quadrature_field",
    "compute_radial_power_spectrum",
    "compute_sparse_objective",
    "compute_step_size",
    "compute_whitened",
    "infer_codes",
    "infer_fista",
    "infer_lca",
    "learn_dictionary",
    "learn_from_batches",
    "load_fields",
    "load_image_folder",
    "load_natural_images",
    "make_learned_cells",
    "make_learned_circuit",
    "make_pixel_grid",
    "make_unit_rows",
    "make_whitening_filter",
    "sample_patches",
    "save_fields",
    "update_dictionary_hebbian",
]
