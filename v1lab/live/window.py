"""The live window (matplotlib on Tk): Tk events in, artists out.

:class:`LiveWindow` turns Tk events into the event records of :mod:`v1lab.live.controls`,
sends the stimulus to the engine's process and draws what comes back: the tangent screen
with the stimulus and the marks, the scrolling raster, the rate meter and the tuning curve,
blitted 25 times a second. ``s`` saves the session (in a thread), ``r`` reveals the cell.
The footer says what the stimulus is, the mouse-to-sound latency and which scheduling
priority the engine's process runs at (:func:`priority_text`: real-time or normal).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from v1lab.live._common import one_line
from v1lab.live.analysis import LiveAnalysis
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
from v1lab.live.engine import LiveConfig, SessionSnapshot
from v1lab.live.mystery import Score, compute_rf_map, compute_true_tuning, score_guess
from v1lab.live.realtime import EngineHandle
from v1lab.live.render import make_live_stimulus
from v1lab.live.session import save_live_session
from v1lab.live.state import LiveState
from v1lab.model.stimulus import RetinaGrid, render_frames

_GREY = (0.5, 0.5, 0.5)
_MARK_STYLE = {"+": ("+", "#d62728", 140), "x": ("x", "#1f77b4", 110), "o": (".", "0.3", 40)}
_REDRAW_MS = 40  # 25 frames per second is smooth for a hand-steered slit


def _event_time(event: Any) -> float:
    """When the event happened (monotonic s): the X server's stamp when it is usable.

    X servers on Linux stamp input events in milliseconds of the monotonic clock (32-bit);
    using that stamp counts the time an event waited while the window was busy drawing.
    """
    now = time.monotonic()
    stamp = getattr(getattr(event, "guiEvent", None), "time", None)
    if isinstance(stamp, int) and stamp > 0:
        lag_ms = (int(now * 1000.0) - stamp) & 0xFFFFFFFF
        if lag_ms < 2000:
            return now - lag_ms / 1000.0
    return now


def priority_text(priority: str | None) -> str:
    """The window's line on the engine's scheduling priority (real-time or normal).

    Examples
    --------
    >>> priority_text("real-time (SCHED_RR 10)")
    'engine priority: real-time (SCHED_RR 10)'
    >>> priority_text(None)
    'engine priority: …'
    """
    return f"engine priority: {priority or '…'}"


def _bar_corners(x: float, y: float, ori_deg: float, length: float, width: float) -> np.ndarray:
    rad = math.radians(ori_deg)
    along = np.array([math.cos(rad), math.sin(rad)]) * 0.5 * length
    across = np.array([-math.sin(rad), math.cos(rad)]) * 0.5 * width
    centre = np.array([x, y])
    return np.array(
        [centre - along - across, centre + along - across, centre + along + across,
         centre - along + across]
    )  # fmt: skip


class LiveWindow:
    """The matplotlib window: turns Tk events into event records and draws the results."""

    def __init__(
        self,
        *,
        engine: EngineHandle,
        config: LiveConfig,
        protocol: Any,
        mystery: bool,
        folder: Path,
        overwrite: bool,
        max_seconds: float | None,
        geometry_path: str | None,
    ) -> None:
        import matplotlib

        matplotlib.use("TkAgg", force=True)
        import matplotlib.pyplot as plt
        from matplotlib.patches import Circle, Polygon
        from matplotlib.transforms import Bbox

        # The live keys replace matplotlib's navigation keys (s would open a save dialog).
        for key in list(matplotlib.rcParams):
            if key.startswith("keymap."):
                matplotlib.rcParams[key] = []
        matplotlib.rcParams["toolbar"] = "None"
        self._plt = plt
        self.engine = engine
        self.config = config
        self.protocol = protocol
        self.folder = folder
        self.overwrite = overwrite
        self.max_seconds = max_seconds
        self.geometry_path = geometry_path
        pop = config.population
        extent = config.retina.extent_deg
        self.state = LiveState(extent_deg=extent, mystery=mystery)
        self.analysis = LiveAnalysis(len(pop))
        self.truth = pop.to_cells()[0]
        self.code = 0
        self.ready = False
        self.info: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.error: str | None = None
        self.latencies: deque[float] = deque(maxlen=500)
        self._t_open = time.monotonic()
        self._closing = False
        self._geometry_written = False
        self._save_wanted = False
        self._save_png: bytes | None = None
        self._save_thread: threading.Thread | None = None
        self._save_result: str | None = None
        self._saved_once = False
        self._status_note = ""
        self._reveal_thread: threading.Thread | None = None
        self._reveal_data: tuple[np.ndarray, np.ndarray] | None = None
        self._reveal_drawn = False
        self._score: Score | None = None

        fig = plt.figure(figsize=(12.0, 7.0), dpi=100)
        self.fig = fig
        with contextlib.suppress(AttributeError):
            fig.canvas.manager.set_window_title("v1lab live")
        gs = fig.add_gridspec(
            3, 2, width_ratios=[1.45, 1.0], height_ratios=[1.0, 0.32, 1.35],
            left=0.05, right=0.97, bottom=0.11, top=0.92, wspace=0.22, hspace=0.55,
        )  # fmt: skip
        ax = fig.add_subplot(gs[:, 0])
        ax.set_facecolor(_GREY)
        half = 0.5 * extent
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xlabel("x (deg)")
        ax.set_ylabel("y (deg)")
        ax.set_title("tangent screen", fontsize=10)
        self.ax_screen = ax
        self._grating_img = ax.imshow(
            np.zeros((2, 2)), extent=(-half, half, -half, half), cmap="gray", vmin=-1, vmax=1,
            interpolation="bilinear", visible=False, zorder=1,
        )  # fmt: skip
        self._aperture = Circle((0, 0), 1.0, transform=ax.transData, visible=False)
        self._poly = Polygon(np.zeros((4, 2)), closed=True, zorder=2)
        self._spot = Circle((0, 0), 0.25, zorder=2, visible=False)
        ax.add_patch(self._poly)
        ax.add_patch(self._spot)
        self._mark_art = {
            sign: ax.scatter([], [], marker=m, c=c, s=s, zorder=4, linewidths=2)
            for sign, (m, c, s) in _MARK_STYLE.items()
        }
        (self._guess_line,) = ax.plot([], [], color="#ffdd00", lw=3, zorder=5)
        (self._guess_dot,) = ax.plot([], [], "*", color="#ffdd00", ms=14, zorder=5)
        self._help = ax.text(
            0.02, 0.98, self._help_text(), transform=ax.transAxes, va="top", ha="left",
            family="monospace", fontsize=8.5, zorder=10, visible=False,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.92},
        )  # fmt: skip
        self._reveal_text = ax.text(
            0.5, 0.02, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9,
            zorder=10, visible=False, bbox={"boxstyle": "round", "fc": "#fff6d5", "alpha": 0.95},
        )  # fmt: skip

        n = len(pop)
        ax_r = fig.add_subplot(gs[0, 1])
        ax_r.set_xlim(-self.analysis.raster_s, 0.0)
        ax_r.set_ylim(n - 0.5, -0.5)
        ax_r.set_yticks(range(n))
        labels = ["mystery"] if mystery else [
            f"{'▶ ' if i == 0 else ''}{c}" for i, c in enumerate(config.protocol_cells)
        ]  # fmt: skip
        ax_r.set_yticklabels(labels, fontsize=8)
        ax_r.set_xlabel("time (s)")
        ax_r.set_ylabel("cell")
        ax_r.set_title("raster (▶ = under the electrode)", fontsize=10)
        self._raster_main = ax_r.scatter([], [], marker="|", c="k", s=90, linewidths=1.5)
        self._raster_other = ax_r.scatter([], [], marker="|", c="0.6", s=60, linewidths=1.0)
        self.ax_raster = ax_r

        ax_m = fig.add_subplot(gs[1, 1])
        top = float(pop.r_max_hz[0] + pop.spontaneous_hz[0])
        ax_m.set_xlim(0, max(20.0, 1.2 * top))
        ax_m.set_ylim(-0.5, 0.5)
        ax_m.set_yticks([])
        ax_m.set_ylabel("rate")
        ax_m.tick_params(axis="x", labelsize=8)
        self._meter = ax_m.barh([0], [0.0], height=0.7, color="#2ca02c")[0]
        self._meter_text = ax_m.text(0.98, 0.5, "", transform=ax_m.transAxes, ha="right",
                                     va="center", fontsize=10)  # fmt: skip
        self.ax_meter = ax_m

        ax_t = fig.add_subplot(gs[2, 1], projection="polar")
        from matplotlib.collections import PolyCollection

        centres = np.radians(self.analysis.tuning.centres_deg)
        self._wedge_theta = np.concatenate([centres, centres + np.pi])
        self._wedge_half = 0.45 * np.radians(self.analysis.tuning.bin_width_deg)
        # One collection of wedges (one draw call), each orientation bin drawn at θ and θ+180°.
        self._tuning_wedges = PolyCollection(
            self._wedges(np.zeros(self._wedge_theta.size)), facecolors="#ff7f0e", alpha=0.85
        )
        ax_t.add_collection(self._tuning_wedges)
        (self._truth_line,) = ax_t.plot([], [], color="k", lw=1.5)
        # A fixed radial range (redrawing the polar grid every tick would be slow): the
        # wedges are scaled to the largest rate, which the label gives.
        ax_t.set_ylim(0, 1.1)
        self._tuning_scale = ax_t.text(
            1.04, 0.0, "", transform=ax_t.transAxes, ha="left", va="bottom", fontsize=8
        )
        ax_t.set_title("tuning: spikes/s while on the RF, by orientation", fontsize=10, pad=12)
        ax_t.set_yticklabels([])
        self.ax_tuning = ax_t

        who = (
            "a mystery cell: map it, guess (enter, t, d), r reveals it"
            if mystery
            else f"cell {config.protocol_cells[0]} ({pop.cell_type[0]}) under the electrode"
        )
        fig.suptitle(f"v1lab live — {who}   (h: keys)", fontsize=12)
        self._status = fig.text(0.01, 0.035, "starting the simulation …", fontsize=9)
        self._notice = fig.text(0.01, 0.008, "", fontsize=9, color="#b00000")
        self._latency = fig.text(0.99, 0.035, "", fontsize=9, ha="right")
        self._priority = fig.text(0.99, 0.008, priority_text(None), fontsize=9, ha="right")

        canvas = fig.canvas
        canvas.mpl_connect("motion_notify_event", self._on_motion)
        canvas.mpl_connect("scroll_event", self._on_scroll)
        canvas.mpl_connect("button_press_event", self._on_click)
        canvas.mpl_connect("key_press_event", self._on_key)
        canvas.mpl_connect("close_event", self._on_close)
        canvas.mpl_connect("draw_event", self._on_draw)
        # Blitting: the axes, ticks and labels are drawn once (a full draw of this figure
        # takes 50-150 ms); each tick redraws only what moves, so the window keeps up with
        # the hand and input events never wait long.
        # Regions redrawn every `period` ticks: the screen at full rate, the slower panels
        # less often (each blit costs in proportion to its area).
        self._groups: list[tuple[Callable[[], Any], list[Any], int]] = [
            (lambda: self.ax_screen.bbox, [
                self._grating_img, self._poly, self._spot, *self._mark_art.values(),
                self._guess_line, self._guess_dot, self._help, self._reveal_text,
            ], 1),
            (lambda: Bbox.union([self.ax_raster.bbox, self.ax_meter.bbox]), [
                self._raster_main, self._raster_other, self._meter, self._meter_text,
            ], 2),
            (lambda: Bbox.from_extents(
                self.ax_tuning.bbox.x0, self.ax_tuning.bbox.y0, fig.bbox.x1,
                self.ax_tuning.bbox.y1,
            ), [
                self._tuning_wedges, self._truth_line, self._tuning_scale,
            ], 5),
            (lambda: Bbox(fig.transFigure.transform([(0.0, 0.0), (1.0, 0.06)])), [
                self._status, self._notice, self._latency, self._priority,
            ], 5),
        ]  # fmt: skip
        for _, artists, _ in self._groups:
            for artist in artists:
                artist.set_animated(True)
        self._backgrounds: list[Any] = []
        self._n_ticks = 0
        self._timer = canvas.new_timer(interval=_REDRAW_MS)
        self._timer.add_callback(self._tick)
        self._timer.start()
        self.engine.send("stim", self.state.params(), time.monotonic())
        self._update_artists()

    # -- events ------------------------------------------------------------------------

    def _help_text(self) -> str:
        return "\n".join(f"{k:<12} {v}" for k, v in KEY_HELP)

    def _dispatch(self, action: Action, t: float) -> None:
        if action is Action.STIMULUS:
            self.engine.send("stim", self.state.params(), t)
        elif action is Action.MARK:
            self.state.marks.append(self.analysis.make_mark(self.state))
        elif action is Action.SAVE:
            self._request_save()
        elif action is Action.QUIT:
            self._quit()
            return
        elif action is Action.REVEAL:
            self._reveal()

    def _on_motion(self, event: Any) -> None:
        t = _event_time(event)
        if event.inaxes is not self.ax_screen:
            return
        self._dispatch(handle_mouse_move(self.state, MouseEvent(event.xdata, event.ydata, t)), t)

    def _on_scroll(self, event: Any) -> None:
        t = _event_time(event)
        mods = set(getattr(event, "modifiers", None) or ())
        if event.key:
            mods |= {m for m in ("shift", "ctrl", "control") if m in str(event.key)}
        action = handle_scroll(self.state, ScrollEvent(float(event.step), frozenset(mods), t))
        self._dispatch(action, t)

    def _on_click(self, event: Any) -> None:
        t = _event_time(event)
        if event.inaxes is not self.ax_screen or event.button is None:
            return
        click = ClickEvent(int(event.button), event.xdata, event.ydata, t)
        self._dispatch(handle_click(self.state, click), t)

    def _on_key(self, event: Any) -> None:
        t = _event_time(event)
        self._dispatch(handle_key(self.state, KeyEvent(event.key or "", t)), t)

    def _on_close(self, event: Any) -> None:
        self._closing = True
        self._timer.stop()

    def _wedges(self, radii: np.ndarray) -> list[np.ndarray]:
        th, w = self._wedge_theta, self._wedge_half
        arc = np.linspace(-1.0, 1.0, 5)
        return [
            np.vstack([[t, 0.0], np.column_stack([t + arc * w, np.full(arc.size, r)]), [t, 0.0]])
            for t, r in zip(th, radii, strict=True)
        ]

    def _on_draw(self, event: Any) -> None:
        # A full draw (first show, resize, reveal): keep it as the background to blit on.
        canvas = self.fig.canvas
        self._backgrounds = [canvas.copy_from_bbox(bbox()) for bbox, _, _ in self._groups]
        for _, artists, _ in self._groups:
            for artist in artists:
                self.fig.draw_artist(artist)
        if self.ready and not self._geometry_written and self.geometry_path:
            self._write_geometry()

    def _blit(self) -> None:
        canvas = self.fig.canvas
        if not self._backgrounds:
            canvas.draw_idle()
            return
        self._n_ticks += 1
        for (bbox, artists, period), background in zip(
            self._groups, self._backgrounds, strict=True
        ):
            if self._n_ticks % period:
                continue
            canvas.restore_region(background)
            for artist in artists:
                self.fig.draw_artist(artist)
            canvas.blit(bbox())

    # -- periodic work -----------------------------------------------------------------

    def _tick(self) -> None:
        if self._closing:
            return
        for msg in self.engine.messages():
            kind = msg[0]
            if kind == "ready":
                self.ready = True
                self.info = msg[1]
                self._priority.set_text(priority_text(self.info.get("priority")))
                notice = self.info.get("notice")
                if notice:
                    self._notice.set_text(f"SILENT — {notice}")
                    sys.stderr.write(f"v1lab: running silent: {notice}\n")
            elif kind == "blocks":
                for r in msg[1]:
                    self.analysis.add(r)
                    if math.isfinite(r.latency_s):
                        self.latencies.append(r.latency_s)
                self.stats = msg[2]
            elif kind == "snapshot":
                self._start_save(msg[1], msg[2])
            elif kind == "notice":
                self.info["notice"] = msg[1]
                self._notice.set_text(f"SILENT — {msg[1]}")
                sys.stderr.write(f"v1lab: running silent: {msg[1]}\n")
            elif kind == "error":
                self.error = msg[1]
                self.code = 1
                self._notice.set_text(f"engine stopped: {self.error}")
                sys.stderr.write(f"v1lab: live engine failed: {self.error}\n")
        if self._save_thread is not None and not self._save_thread.is_alive():
            self._save_thread = None
            self._status_note = self._save_result or ""
            sys.stdout.write(f"v1lab: {self._status_note}\n")
            sys.stdout.flush()
        if self._reveal_data is not None and not self._reveal_drawn:
            self._draw_truth_tuning()
        if self.max_seconds is not None and time.monotonic() - self._t_open > self.max_seconds:
            self._quit()
            return
        self._update_artists()
        self._blit()
        if self.ready and self._backgrounds and self.geometry_path and not self._geometry_written:
            self._write_geometry()

    def _update_artists(self) -> None:
        s = self.state
        p = s.params()
        fill = "white" if s.contrast > 0 else "black"
        face = fill if s.shutter_open else "none"
        edge_style = "-" if s.shutter_open else "--"
        self._poly.set_visible(s.kind in ("bar", "edge"))
        self._spot.set_visible(s.kind == "spot")
        self._grating_img.set_visible(s.kind == "grating" and s.shutter_open)
        for patch in (self._poly, self._spot):
            patch.set_facecolor(face)
            patch.set_edgecolor(fill if s.shutter_open else "0.9")
            patch.set_linestyle(edge_style)
        if s.kind == "bar":
            self._poly.set_xy(_bar_corners(s.x_deg, s.y_deg, p.orientation_deg, s.length_deg,
                                           s.width_deg))  # fmt: skip
        elif s.kind == "edge":
            big = 2.0 * s.extent_deg
            rad = math.radians(p.orientation_deg)
            cx, cy = s.x_deg - math.sin(rad) * 0.5 * big, s.y_deg + math.cos(rad) * 0.5 * big
            self._poly.set_xy(_bar_corners(cx, cy, p.orientation_deg, 2 * big, big))
        elif s.kind == "spot":
            self._spot.center = (s.x_deg, s.y_deg)
            self._spot.set_radius(0.5 * s.width_deg)
        elif s.shutter_open:
            stim = make_live_stimulus(p, extent_deg=s.extent_deg)
            grid = RetinaGrid(extent_deg=s.extent_deg, pixels_per_deg=12.0)
            t = 0.0 if s.paused else time.monotonic() - self._t_open
            if p.temporal_frequency_hz > 0:
                t %= 1.0 / p.temporal_frequency_hz
            self._grating_img.set_data(render_frames(stim, grid, [t])[0])
        for sign, art in self._mark_art.items():
            pts = [(m.x_deg, m.y_deg) for m in s.marks if m.sign == sign]
            art.set_offsets(np.array(pts) if pts else np.zeros((0, 2)))
        g = s.guess
        if g.complete:
            seg = _bar_corners(g.x_deg, g.y_deg, g.orientation_deg, 1.5, 0.0)[:2]
            self._guess_line.set_data(seg[:, 0], seg[:, 1])
            self._guess_dot.set_data([g.x_deg], [g.y_deg])
        self._help.set_visible(s.show_help)

        cells, times = self.analysis.raster()
        main = cells == 0
        self._raster_main.set_offsets(np.column_stack([times[main], cells[main]]))
        self._raster_other.set_offsets(np.column_stack([times[~main], cells[~main]]))
        rate = self.analysis.rate_hz()
        self._meter.set_width(rate)
        self._meter_text.set_text(f"{rate:.0f} spikes/s")

        rates = np.nan_to_num(self.analysis.tuning.rates_hz())
        heights = np.concatenate([rates, rates])
        peak = max(float(heights.max(initial=0.0)), 5.0)
        self._tuning_wedges.set_verts(self._wedges(heights / peak))
        if self._reveal_data is not None:
            directions, true_rates = self._reveal_data
            theta = np.radians(np.append(directions - 90.0, directions[0] - 90.0))
            true_peak = max(float(true_rates.max()), 1e-9)
            self._truth_line.set_data(theta, np.append(true_rates, true_rates[0]) / true_peak)
        self._tuning_scale.set_text(f"outer ring:\n{peak * 1.1:.0f} spikes/s")

        status = f"{s.describe()}   |   {self.analysis.n_spikes} spikes"
        if s.mystery and g.complete:
            status += (
                f"   |   guess: {g.cell_type} at ({g.x_deg:.1f}, {g.y_deg:.1f})°, "
                f"{g.orientation_deg:.0f}°, direction {g.direction}"
            )
        if self._status_note:
            status += f"   |   {self._status_note}"
        self._status.set_text(status if self.ready else "starting the simulation …")
        if self.latencies:
            recent = np.array(list(self.latencies)[-20:]) * 1e3
            self._latency.set_text(f"mouse → sound latency {np.median(recent):.0f} ms")
        elif self.ready and self.info.get("notice"):
            self._latency.set_text("latency: — (silent)")

    # -- actions -----------------------------------------------------------------------

    def _request_save(self) -> None:
        if self._save_thread is not None or self._save_wanted:
            return
        import io as _bytes_io

        from PIL import Image as PILImage

        # What is on the screen now (a savefig would leave out the blitted artists).
        buf = _bytes_io.BytesIO()
        PILImage.fromarray(np.asarray(self.fig.canvas.buffer_rgba())).save(buf, format="PNG")
        self._save_png = buf.getvalue()
        self._save_wanted = True
        self._status_note = "saving …"
        self.engine.send("snapshot")

    def _start_save(self, snapshot: SessionSnapshot, stats: dict[str, Any]) -> None:
        self._save_wanted = False
        notes = self._notes(stats)
        marks = list(self.state.marks)
        overwrite = self.overwrite or self._saved_once

        def work() -> None:
            try:
                path = save_live_session(
                    self.folder, snapshot, protocol=self.protocol,
                    population=self.config.population, marks=marks, notes=notes,
                    figure_png=self._save_png, overwrite=overwrite,
                )  # fmt: skip
                self._saved_once = True
                self._save_result = f"saved the session to {path}"
            except Exception as exc:  # a failed save must not end the session
                self._save_result = f"save failed: {one_line(exc)}"

        self._save_thread = threading.Thread(target=work, name="v1lab-live-save", daemon=True)
        self._save_thread.start()

    def _notes(self, stats: Mapping[str, Any]) -> dict[str, Any]:
        lat = np.array(self.latencies) * 1e3
        notes: dict[str, Any] = {
            "mode": "mystery" if self.state.mystery else "live",
            "protocol_cells": list(self.config.protocol_cells),
            "electrode_cell": self.config.protocol_cells[0] if self.config.protocol_cells else None,
            "amplitudes": list(self.config.amplitudes),
            "audio": {**dict(stats), "device": self.info.get("device"),
                      "host_api": self.info.get("host_api"), "notice": self.info.get("notice"),
                      "engine_priority": self.info.get("priority")},
            "latency_ms": {
                "median": float(np.median(lat)) if lat.size else None,
                "p90": float(np.percentile(lat, 90)) if lat.size else None,
                "n_events": int(lat.size),
            },
            "tuning": {
                "orientation_deg": self.analysis.tuning.centres_deg,
                "rate_hz": [None if not math.isfinite(v) else v
                            for v in self.analysis.tuning.rates_hz()],
                "seconds": self.analysis.tuning.seconds,
            },
        }  # fmt: skip
        if self.state.mystery:
            notes["guess"] = dataclasses.asdict(self.state.guess)
            if self._score is not None:
                notes["score"] = dataclasses.asdict(self._score)
        return notes

    def _reveal(self) -> None:
        if self._reveal_drawn or self._reveal_thread is not None:
            return
        from matplotlib.patches import Ellipse

        pop = self.config.population
        x, y, rf = compute_rf_map(pop, extent_deg=self.state.extent_deg)
        ax = self.ax_screen
        ax.contour(x, y, rf, levels=[0.25, 0.6], colors="#d62728", linewidths=1.5, zorder=3)
        if rf.min() < -0.25:
            ax.contour(x, y, rf, levels=[-0.6, -0.25], colors="#1f77b4", linewidths=1.5,
                       linestyles="--", zorder=3)  # fmt: skip
        sf = float(pop.spatial_frequency_cpd[0])
        ax.add_patch(Ellipse(
            (float(pop.x_deg[0]), float(pop.y_deg[0])), 4 * float(pop.ny[0]) / sf,
            4 * float(pop.nx[0]) / sf, angle=float(pop.orientation_deg[0]), fill=False,
            ec="#ffdd00", lw=1.2, ls=":", zorder=3,
        ))  # fmt: skip
        truth = self.truth
        line = (
            f"true cell: {truth['type']} at ({truth['x_deg']:.1f}, {truth['y_deg']:.1f})°, "
            f"orientation {truth['orientation_deg']:.0f}°"
        )
        if "preferred_direction_deg" in truth:
            line += f", prefers motion to {truth['preferred_direction_deg']:.0f}°"
        lines = [line]
        if self.state.mystery:
            self._score = score_guess(self.state.guess, truth)
            lines.append(self._score.describe())
            if not self.state.guess.complete:
                lines.append("(no guess was made: enter puts one at the slit)")
        self._reveal_text.set_text("\n".join(lines))
        self._reveal_text.set_visible(True)
        self._status_note = "computing the true tuning …"
        self.fig.canvas.draw_idle()  # the contours join the background

        def work() -> None:
            self._reveal_data = compute_true_tuning(self.config.retina, pop)

        self._reveal_thread = threading.Thread(target=work, name="v1lab-live-truth", daemon=True)
        self._reveal_thread.start()

    def _draw_truth_tuning(self) -> None:
        # The true curve is drawn by _update_artists, scaled to its own peak (its shape is
        # what the student's bars should match), at orientation = direction − 90°.
        self._truth_line.set_label("true tuning (shape), by direction of motion")
        legend = self.ax_tuning.legend(loc="upper left", fontsize=7, bbox_to_anchor=(-0.3, 1.12))
        legend.set_animated(False)
        self._reveal_drawn = True
        self._status_note = "revealed"
        self.fig.canvas.draw_idle()

    def _write_geometry(self) -> None:
        widget = self.fig.canvas.get_tk_widget()
        widget.update_idletasks()
        height = widget.winfo_height()
        x0, y0, x1, y1 = self.ax_screen.get_window_extent().extents
        xlim, ylim = self.ax_screen.get_xlim(), self.ax_screen.get_ylim()
        rx, ry = widget.winfo_rootx(), widget.winfo_rooty()
        bx = (x1 - x0) / (xlim[1] - xlim[0])
        by = (y1 - y0) / (ylim[1] - ylim[0])
        geometry = {
            "pid": os.getpid(),
            "canvas_origin_px": [rx, ry],
            "canvas_size_px": [widget.winfo_width(), height],
            "screen_axes_px": [rx + x0, ry + height - y1, rx + x1, ry + height - y0],
            # Screen pixel = a + b * degrees (y grows downwards on the screen).
            "x_px": [rx + x0 - bx * xlim[0], bx],
            "y_px": [ry + height - y0 + by * ylim[0], -by],
            "notice": self.info.get("notice"),
        }
        target = Path(self.geometry_path or "")
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(geometry))
        os.replace(tmp, target)
        self._geometry_written = True

    def _quit(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._timer.stop()
        self._plt.close(self.fig)

    def run(self) -> int:
        """Show the window until the student quits; return the exit code."""
        self._plt.show()
        if self._save_thread is not None:
            self._save_thread.join()
            sys.stdout.write(f"v1lab: {self._save_result}\n")
        return self.code

    def summary(self, stats: Mapping[str, Any]) -> str:
        """One line for the terminal after the window closed."""
        lat = np.array(self.latencies) * 1e3
        parts = [f"v1lab live: {self.analysis.now_s:.1f} s, {self.analysis.n_spikes} spikes"]
        if stats.get("audio"):
            parts.append(f"{stats.get('underflows', 0)} underflows, {stats.get('xruns', 0)} xruns")
        else:
            parts.append(f"silent ({self.info.get('notice') or 'no audio'})")
        if lat.size:
            parts.append(f"latency median {np.median(lat):.0f} ms over {lat.size} events")
        return ", ".join(parts)
