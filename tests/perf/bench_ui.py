"""UI responsiveness (issue 10): event-loop stalls during a first sync, and cold start to first paint.

    python tests/perf/bench.py --items 10k --scenarios ui [--json FILE]
    python tests/perf/bench_ui.py --items 10k [...]   (the same, ui only)

  ui-sync   the app (bench_ui_worker.py: offscreen QApplication, one qasync loop, the real MainWindow and
            engine) runs discovery + the approved first sync of the world's catalog; the emulators stay in
            this process, over loopback. Figures: the longest gap between 5 ms ticks on the GUI thread
            (max_loop_stall_ms; target <= 50 ms at 100k), p99, stalls over 50 ms, and where the GUI thread
            (and the other busy threads) were during the worst stalls, from a watchdog's stack samples.
  ui-start  a fresh process starting the app on the synced profile: wall_s = seconds from exec to the main
            window's first paint event; marks for the steps in between, and the first dashboard reload.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_world import ROOT, World

WORKER = Path(__file__).with_name("bench_ui_worker.py")
TIMEOUT_S = 4 * 3600
START_STEPS = (
    ("imported", "imports done"), ("services_open", "profile open"), ("window_init", "window build starts"),
    ("window_ready", "window built"), ("first_paint", "first paint"), ("first_paint_done", "paint done"),
    ("dashboard_loaded", "dashboard loaded"),
)  # fmt: skip


def run_worker(arguments: list[str]) -> tuple[dict[str, Any], float]:
    """Runs the worker; returns its figures and the epoch time it was exec'd at."""
    with tempfile.TemporaryDirectory(prefix="atlas-bench-ui-") as tmp:
        out = Path(tmp) / "result.json"
        exec_at = time.time()
        done = subprocess.run(
            [sys.executable, str(WORKER), *arguments, "--out", str(out)],
            capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT,
        )  # fmt: skip
        if not out.exists():
            raise RuntimeError(f"bench UI worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    if "error" in result:
        raise RuntimeError(f"bench UI worker failed:\n{result['error']}\n{done.stderr[-2000:]}")
    return result, exec_at


def ui_sync(w: World, settle_s: float = 3.0) -> dict[str, Any]:
    """Discovery + approved first sync in the window; the stall figures (see bench_ui_worker.StallProbe)."""
    result, _ = run_worker(["sync", str(w.home), w.connection_id, "--settle-s", str(settle_s)])
    result.pop("marks", None)
    return result


def ui_start(w: World) -> dict[str, Any]:
    """Cold start on the profile as it is: wall_s is exec to the main window's first paint event."""
    result, exec_at = run_worker(["start", str(w.home)])
    marks = result.pop("marks")
    steps = {key: round(marks[key] - exec_at, 3) for key, _ in START_STEPS if key in marks}
    return {
        "wall_s": steps["first_paint"],
        "peak_rss_mb": result["peak_rss_mb"],
        "start_steps_s": steps,
        "dashboard_loaded_s": steps.get("dashboard_loaded"),
    }


# ---- printing --------------------------------------------------------------------------------------------
def report(rows: list[dict[str, Any]]) -> str:
    """The stall table, the start-up steps and the worst stalls' stacks of the ui rows."""
    lines = []
    for row in rows:
        head = f"{row['scenario']} {row['erp']} {row['items']:,}"
        if row["scenario"] == "ui-start":
            steps = ", ".join(
                f"{label} {row['start_steps_s'][key]:.2f}"
                for key, label in START_STEPS if key in row["start_steps_s"]
            )  # fmt: skip
            lines.append(f"\n{head}: s from exec: {steps}; peak RSS {row['peak_rss_mb']:.0f} MB")
            continue
        lines.append(
            f"\n{head}: wall {row['wall_s']:.1f} s (discovery {row['discover_s']:.1f} s), max loop stall "
            f"{row['max_loop_stall_ms']:.0f} ms (target <= 50), p99 {row['p99_loop_stall_ms']:.1f} ms, "
            f"p99.9 {row['p999_loop_stall_ms']:.0f} ms, {row['stalls_over_50ms']} stalls > 50 ms "
            f"({row['stalls_over_100ms']} > 100 ms, {row['stalls_over_250ms']} > 250 ms, "
            f"{row['stalled_s']:.1f} s stalled in all), asyncio probe max {row['async_max_late_ms']:.0f} ms, "
            f"GC max {row['gc_max_ms']:.0f} ms; max by phase (ms) {row['max_stall_by_phase_ms']}"
        )
        lines.append(f"  stalls > 50 ms by phase: {row['stalls_over_50ms_by_phase']}")
        lines.append("  stalls > 50 ms by cause (the GUI thread's innermost project functions):")
        lines.append(f"    {'total ms':>8} {'count':>5} {'max ms':>6}  cause  (phases)")
        for entry in row["stall_causes"][:12]:
            lines.append(
                f"    {entry['total_ms']:>8.0f} {entry['stalls']:>5} {entry['max_ms']:>6.0f}  "
                f"{entry['cause']}  {entry['phases']}"
            )
        lines.append("  worst stalls (GUI thread: innermost frame <- project frames; samples every ~10 ms):")
        for stall in row["worst_stalls"][:8]:
            lines.append(
                f"  {stall['ms']:>7.0f} ms at {stall['at_s']:>6.1f} s ({stall['phase']}; CPU: GUI thread "
                f"{stall['gui_cpu_ms']:.0f} ms, app {stall['process_cpu_ms']:.0f} ms; GC {stall['gc_ms']} ms;"
                f" "
                f"{stall['samples']} samples): {stall['cause']}"
            )
            if stall.get("steps"):
                lines.append(f"      steps: {' | '.join(stall['steps'])}")
            for text, count in stall["gui"][:2]:
                lines.append(f"      gui x{count}: {text}")
            for text, count in stall["others"][:1]:
                if text:
                    lines.append(f"      other threads x{count}: {text}")
        lines.append("  GUI thread during all stalls > 50 ms (samples):")
        lines.extend(f"    {count:>5}  {text}" for text, count in row["hot_gui_frames"][:10])
        if row["busy_other_threads"]:
            lines.append("  other busy threads meanwhile (samples):")
            lines.extend(f"    {count:>5}  {text}" for text, count in row["busy_other_threads"][:6])
    return "\n".join(lines)


if __name__ == "__main__":
    import bench

    raise SystemExit(bench.main([*sys.argv[1:], "--scenarios", "ui"]))
