"""The run report: a self-contained page that a browser loads without errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from v1lab.cli import save_recording_folder
from v1lab.experiment import run_protocol
from v1lab.protocol import parse_protocol
from v1lab.report import save_report

PROTOCOL = {
    "name": "report_demo",
    "description": "slits in 8 directions for the report tests",
    "seed": 8,
    "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
    "population": {"cells": [
        {"type": "simple", "orientation_deg": 45.0},
        {"type": "complex", "orientation_deg": 135.0},
    ]},
    "trials": {"n_trials": 2, "isi_s": 0.5},
    "stimuli": [{"kind": "bar", "speed_deg_s": 4.0, "duration_s": 1.0, "length_deg": 3.0,
                 "direction_deg": {"start": 0, "stop": 360, "step": 45}}],
}  # fmt: skip


@pytest.fixture(scope="module")
def recording():
    return run_protocol(parse_protocol(PROTOCOL))


@pytest.fixture(scope="module")
def run_folder(recording, tmp_path_factory):
    return save_recording_folder(recording, tmp_path_factory.mktemp("runs") / "run")


def test_the_run_folder_has_a_report(run_folder):
    assert (run_folder / "report.html").is_file()
    assert (run_folder / "figures" / "tuning_cell_000.png").is_file()


def test_the_report_is_self_contained(run_folder):
    text = (run_folder / "report.html").read_text()
    sources = re.findall(r"""src=['"]([^'"]*)['"]""", text)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert text.count("<audio") == 4  # preferred and turned sweep, for each of 2 cells
    assert text.count("data:image/gif") == 1  # one stimulus block
    assert "preferred_orientation_deg" in text and "report_demo" in text
    for link in re.findall(r"""href=['"]([^'"#]*)['"]""", text):
        assert (run_folder / link).exists(), link  # relative links point into the folder


def test_without_audio_the_report_is_silent(recording, tmp_path):
    folder = save_recording_folder(recording, tmp_path / "quiet", audio=False)
    text = (folder / "report.html").read_text()
    assert "<audio" not in text and not (folder / "audio").exists()


def test_save_report_makes_the_figures_it_needs(recording, tmp_path):
    path = save_report(recording, tmp_path, audio=False)
    assert path == tmp_path / "report.html"
    assert (tmp_path / "figures" / "population_tuning.png").is_file()


# --------------------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------------------

# Injected at the top of a copy of the page: it records script errors, failed loads and
# console errors, then writes what every image and audio element reached into the DOM.
_PROBE = """<script>
window.__problems = [];
window.addEventListener('error', e => window.__problems.push('error: ' + (e.message ||
  (e.target && (e.target.currentSrc || e.target.src || e.target.tagName)) || '').slice(0, 120)), true);
const __error = console.error;
console.error = (...a) => { window.__problems.push('console: ' + a.join(' ')); __error(...a); };
window.addEventListener('load', () => {
  const t0 = Date.now();
  (function settle() {
    const audio = [...document.querySelectorAll('audio')];
    if (audio.every(a => a.readyState >= 1) || Date.now() - t0 > 10000) {
      const out = document.createElement('pre');
      out.id = 'v1lab-probe';
      out.textContent = JSON.stringify({
        images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
        audio: audio.map(a => a.readyState), problems: window.__problems});
      document.body.appendChild(out);
    } else { setTimeout(settle, 100); }
  })();
});
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_the_report_loads_in_headless_chromium(run_folder, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("V1LAB_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    text = (run_folder / "report.html").read_text()
    page.write_text(text.replace("<head>", "<head>" + _PROBE, 1))
    profile = tempfile.mkdtemp(prefix="v1lab-chromium-")
    try:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000", "--dump-dom",
             page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<pre id="v1lab-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["problems"] == []
    assert probe["images"] and all(probe["images"])  # every image decoded (naturalWidth > 0)
    assert len(probe["audio"]) == 4 and all(state >= 1 for state in probe["audio"])
    console_errors = [
        line for line in result.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line
    ]
    assert console_errors == []


def test_summary_counts_unresolved_widths_beside_the_median():
    import numpy as np

    from v1lab.report import _summary_table

    metrics = {
        "cell_type": np.array(["simple", "simple", "simple", "complex"]),
        "hwhh_deg": np.array([10.0, 14.0, np.nan, 20.0]),
        "hwhh_below_deg": np.array([np.nan, np.nan, 7.5, np.nan]),
    }
    html_text = _summary_table(metrics)
    assert "<td>12.00 (+1 below 7.5)</td>" in html_text
    assert "<td>20.00</td>" in html_text
