"""The famous film, live: steer a slit with the mouse and hear the cell answer.

In the film of Hubel & Wiesel's recordings from cat striate cortex, a slit of light is pushed
around a tangent screen by hand, and the loudspeaker crackles when the slit lands on the
cell's receptive field at the right angle (Hubel & Wiesel 1959, 1962; Hubel 1982, Nobel
lecture). ``v1lab --live`` puts a student in that chair: the slit follows the mouse, the
scroll wheel turns it, and one simulated cell (with a few fainter neighbours) is under the
electrode; its spikes play through the sound card in real time. The stage takes a protocol
(retina, spiking, seed, population) and hands on sound, a window and, when the student
saves, a run folder of the data contract.

Modules
-------
* **Pure logic, no display** (what the tests drive): :mod:`~v1lab.live.state`
  (:class:`LiveState`, :class:`StimulusParams`, :class:`Mark`, :class:`Guess`) and
  :mod:`~v1lab.live.controls`, whose handlers :func:`handle_mouse_move`,
  :func:`handle_scroll`, :func:`handle_click`, :func:`handle_key` take plain event records
  (:class:`MouseEvent`, …) and return an :class:`Action`; :mod:`~v1lab.live.analysis`
  (:class:`LiveAnalysis`: scrolling raster, rate meter, the live
  :class:`TuningAccumulator` and the classification of hand-made RF marks);
  :mod:`~v1lab.live.mystery` (:func:`make_mystery_cell`, :func:`score_guess` and the answer
  key); :mod:`~v1lab.live.engine` (:class:`LiveEngine`, which advances the simulation by
  one 10-ms block, through :mod:`~v1lab.live.render`, :mod:`~v1lab.live.lgn` and
  :mod:`~v1lab.live.poisson`);
  :mod:`~v1lab.live.electrode` (:func:`make_live_config`, the cells under the electrode);
  :mod:`~v1lab.live.session` (:func:`save_live_session`).
* **The real-time loop** (:mod:`~v1lab.live.realtime`) runs :class:`LiveEngine` in its own
  process (so neither the window nor Python's GIL can starve the sound card): it keeps
  :class:`~v1lab.audio.AudioStream`'s queue a few blocks deep, and renders each next block
  from the latest stimulus the window sent. The audio callback only copies samples.
* **The window** (:mod:`~v1lab.live.window`, matplotlib on Tk) is thin: it turns Tk events
  into event records, sends the stimulus to the engine and draws what comes back.
  :func:`run_live` (:mod:`~v1lab.live.app`) starts it all.

References
----------
Hubel DH (1982). Exploration of the primary visual cortex, 1955–78. Nature 299:515–524
(Nobel lecture).
Hubel DH, Wiesel TN (1959). Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574–591.
Hubel DH, Wiesel TN (1962). Receptive fields, binocular interaction and functional
architecture in the cat's visual cortex. J Physiol 160:106–154.
"""

from __future__ import annotations

from v1lab.live.analysis import LiveAnalysis, TuningAccumulator
from v1lab.live.app import check_display, run_live
from v1lab.live.controls import (
    KEY_HELP,
    Action,
    ClickEvent,
    KeyEvent,
    MouseEvent,
    ScrollEvent,
    handle_click,
    handle_key,
    handle_mouse_move,
    handle_scroll,
)
from v1lab.live.electrode import make_live_config
from v1lab.live.engine import BLOCK_S, BlockResult, LiveConfig, LiveEngine, SessionSnapshot
from v1lab.live.mystery import (
    Score,
    compute_rf_map,
    compute_true_tuning,
    make_mystery_cell,
    score_guess,
)
from v1lab.live.poisson import SlowGain, StreamingPoisson
from v1lab.live.render import make_live_stimulus
from v1lab.live.session import compute_presentations, load_session_log, save_live_session
from v1lab.live.state import LIVE_KINDS, Guess, LiveState, Mark, StimulusParams

__all__ = [
    "BLOCK_S",
    "KEY_HELP",
    "LIVE_KINDS",
    "Action",
    "BlockResult",
    "ClickEvent",
    "Guess",
    "KeyEvent",
    "LiveAnalysis",
    "LiveConfig",
    "LiveEngine",
    "LiveState",
    "Mark",
    "MouseEvent",
    "Score",
    "ScrollEvent",
    "SessionSnapshot",
    "SlowGain",
    "StimulusParams",
    "StreamingPoisson",
    "TuningAccumulator",
    "check_display",
    "compute_presentations",
    "compute_rf_map",
    "compute_true_tuning",
    "handle_click",
    "handle_key",
    "handle_mouse_move",
    "handle_scroll",
    "load_session_log",
    "make_live_config",
    "make_live_stimulus",
    "make_mystery_cell",
    "run_live",
    "save_live_session",
    "score_guess",
]
