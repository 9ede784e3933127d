"""A piece as an interactive piano roll (a plotly figure): one bar per note, time in seconds,
with faint lines at the piece's bar lines (its meter's, from its pickup: `bar_grid`)."""

from __future__ import annotations

import plotly.graph_objects as go

from core.music.piece import Piece, bar_grid
from core.music.scales import tonic_name

SEAM_BEFORE_COLOR = "#9e9e9e"
SEAM_LABEL = "continuation starts"
MAX_DRAWN_NOTES = 5000  # more bars than this make the browser sluggish; the rest is cut
BAR_LINE_COLOR = "rgba(128, 128, 128, 0.35)"
MAX_BAR_LINES = 500  # a longer piece gets none: at that density they only darken the roll


def pitch_name(pitch: int) -> str:
    """MIDI pitch → scientific name, e.g. 60 → "C4"."""
    return f"{tonic_name(pitch % 12)}{pitch // 12 - 1}"


def piece_to_figure(
    piece: Piece, *, height_px: int = 320, seam_s: float | None = None
) -> go.Figure:
    """Notes as horizontal bars (x: seconds at the piece's tempo, y: pitch named like C4).

    `seam_s`: where a continuation starts; drawn as a dashed line, the notes before it grey.
    """
    seconds_per_step = 60.0 / piece.tempo_bpm / piece.steps_per_quarter
    notes = piece.notes[:MAX_DRAWN_NOTES]
    starts = [n.onset_step * seconds_per_step for n in notes]
    lengths = [n.duration_steps * seconds_per_step for n in notes]
    pitches = [n.pitch for n in notes]
    colors: list[int] | list[str] = pitches
    if seam_s is not None and pitches:  # the tune that was continued, in grey
        from plotly.colors import sample_colorscale

        low, high = min(pitches), max(pitches)
        shades = sample_colorscale("Viridis", [(p - low) / max(high - low, 1) for p in pitches])
        colors = [
            SEAM_BEFORE_COLOR if start < seam_s else shade
            for start, shade in zip(starts, shades, strict=True)
        ]
    figure = go.Figure(
        go.Bar(
            x=lengths,
            base=starts,
            y=pitches,
            orientation="h",
            width=0.8,
            marker={"color": colors, "colorscale": "Viridis", "line": {"width": 0}},
            customdata=[pitch_name(p) for p in pitches],
            hovertemplate=(
                "%{customdata}<br>start %{base:.2f} s<br>length %{x:.2f} s<extra></extra>"
            ),
        )
    )
    low, high = piece.pitch_range
    c_notes = [p for p in range(low - low % 12, high + 1, 12) if p >= low - 1] or [60]
    figure.update_layout(
        height=height_px,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="seconds",
        yaxis={
            "title": "pitch",
            "tickvals": c_notes,
            "ticktext": [pitch_name(p) for p in c_notes],
            "range": [low - 1.5, high + 1.5],
        },
        bargap=0,
        showlegend=False,
    )
    lines = bar_line_steps(piece)
    if len(lines) <= MAX_BAR_LINES:
        # one shape list set at once: add_vline per line costs milliseconds each
        figure.update_layout(
            shapes=[
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": step * seconds_per_step,
                    "x1": step * seconds_per_step,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": BAR_LINE_COLOR, "width": 1},
                    "layer": "below",
                }
                for step in lines
            ]
        )
    if seam_s is not None:
        figure.add_vline(
            x=seam_s,
            line={"dash": "dash", "color": "crimson", "width": 2},
            annotation_text=SEAM_LABEL,
            annotation_position="top right",
        )
    return figure


def bar_line_steps(piece: Piece) -> list[int]:
    """The steps of the piece's bar lines, from its first one to the end of its last note."""
    grid = bar_grid(piece)
    first = grid.pickup_steps or grid.bar_steps
    return list(range(first, piece.length_steps + 1, grid.bar_steps))
