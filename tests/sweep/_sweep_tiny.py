"""A protocol small enough for sweep tests: 3 cells, 4 bar directions, 2 trials."""

TINY = """
name = "tiny"
seed = 1
[retina]
extent_deg = 6.0
lgn_extent_deg = 3.0
[population]
n_cells = 3
rf_scatter_deg = 0.2
[trials]
n_trials = 2
isi_s = 0.3
[[stimuli]]
kind = "bar"
speed_deg_s = 6.0
duration_s = 0.5
direction_deg = [0.0, 90.0, 180.0, 270.0]
"""
