"""The Evaluate page's pieces: model choice, the model's figures, judging a set, and the charts.

A report is a pure function of (model folder version, pieces), so the last one per model lives in
this session's state; generating and judging 20 pieces takes a few seconds, in the script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import TunesmithError
from core.evaluation import (
    DEFAULT_COUNT,
    EXPLANATIONS,
    FEATURE_TITLES,
    FIRST_PIECE_SEED,
    GOOD_OVERLAP_RATIO,
    NOTE_LENGTH_LABELS,
    EvaluationReport,
    ModelFigures,
    check_model_folder,
    evaluate_model,
    evaluate_pieces,
    model_is_better,
    model_verdict,
    piece_without_primer,
    report_to_dict,
    summary_sentences,
)
from core.generation import PAGE_TEMPO_BPM, Generator
from core.model import COPY_FLAG_BARS, load_index, passage_excerpt
from core.music import TONIC_NAMES, Piece, midi_to_bytes, piece_to_midi
from ui import generation as gen
from ui import state
from ui.jobs import loss_figure
from ui.text import plain

# Session-state keys.
REPORTS = "evaluate_reports"  # dict[model path, Report]: the last report per model
MODEL_KEY = "evaluate_model"
SOURCE_KEY = "evaluate_source"
COUNT_KEY = "evaluate_count"
SEED_KEY = "evaluate_seed"
PLAY_KEY = "evaluate_play_piece"

MAX_PAGE_COUNT = 50  # pieces per evaluation in the page (the CLI allows more)
SOURCE_NEW = "Generate new pieces"
SOURCE_SESSION = "Use the pieces I made on the Generate page"


@dataclass(frozen=True)
class Report:
    """A report with the folder version it was made for."""

    model_mtime_ns: int
    report: EvaluationReport


def model_picker(workspace: Path | None) -> gen.ModelChoice | None:
    choices = gen.model_choices(workspace)
    if not choices:
        st.warning("No model yet: train one on the Train page.")
        return None
    labels = [c.label for c in choices]
    pending = st.session_state.pop(state.EVALUATE_MODEL, None)  # set by state.open_evaluation
    for choice in choices:
        if pending and str(choice.path.resolve()) == pending:
            st.session_state[MODEL_KEY] = choice.label
    if st.session_state.get(MODEL_KEY) not in labels:
        st.session_state.pop(MODEL_KEY, None)
    label = st.selectbox("Model to judge", labels, key=MODEL_KEY,
                         help="The bundled model, or one you trained (My models).")
    return choices[labels.index(label)] if label in labels else choices[0]


# ---------------------------------------------------------------- the model's own figures


def model_section(generator: Generator) -> ModelFigures | None:
    figures = ModelFigures.from_metrics(generator.name, generator.metrics)
    st.subheader("1 · The model: does it predict music better than a simple baseline?")
    if figures is None:
        st.info("This model carries no held-out figures from its training.")
        return None
    verdict = model_verdict(figures)
    (st.success if model_is_better(figures) else st.warning)(plain(verdict))
    cols = st.columns(4)
    cols[0].metric("Held-out perplexity", f"{figures.val_perplexity:.2f}",
                   help=EXPLANATIONS["perplexity"])
    cols[1].metric(f"{figures.baseline_order or 4}-gram baseline",
                   f"{figures.baseline_perplexity:.2f}", help=EXPLANATIONS["baseline"])
    cols[2].metric("Next-note accuracy", f"{figures.val_accuracy:.1%}",
                   delta=f"{figures.val_accuracy - figures.baseline_accuracy:+.1%} vs baseline",
                   help=EXPLANATIONS["accuracy"])
    cols[3].metric("Epochs trained", str(figures.epochs_run or len(figures.history)),
                   help=f"The best epoch on held-out music was {figures.best_epoch}.")
    if figures.fine_tuned_from:
        st.caption(f"Fine-tuned from the pretrained {plain(figures.fine_tuned_from)} model, on "
                   f"{plain(figures.dataset or 'its music')}.")
    if figures.history:
        st.plotly_chart(loss_figure(figures.history, {"loss": figures.baseline_loss},
                                    figures.start),
                        key=f"evaluate_curves_{generator.name}")
        st.caption("Lower is better. Training loss is measured on the music it learns from, "
                   "validation loss on held-out pieces it never saw; the dashed line is the "
                   "baseline's loss on those same held-out pieces.")
    return figures


# ---------------------------------------------------------------- judging a set of pieces


def session_pieces(generator: Generator) -> list[Piece]:
    """This session's Generate-page pieces of this model, without their primers' notes."""
    return [piece_without_primer(v.result) for v in gen.history()
            if v.result.model_name == generator.name]


def judge_controls(generator: Generator, model_path: Path) -> EvaluationReport | None:
    """Pick the pieces (new or this session's) and judge them; returns the model's last report."""
    st.subheader("2 · Its music: judge a set of its pieces")
    try:  # said before any click: a model without its held-out pieces cannot be judged
        check_model_folder(model_path)
        problem = ""
    except TunesmithError as error:
        problem = str(error)
        st.error(plain(problem))
    mine = session_pieces(generator)
    options = [SOURCE_NEW] + ([f"{SOURCE_SESSION} ({len(mine)})"] if mine else [])
    source = st.radio("Which pieces", options, key=SOURCE_KEY, horizontal=True)
    if source == SOURCE_NEW:
        left, right = st.columns(2)
        count = left.slider("How many pieces", 5, MAX_PAGE_COUNT, DEFAULT_COUNT, key=COUNT_KEY,
                            help="Each is 30 seconds, made with the default settings.")
        seed = right.number_input("Seed of the first piece", 0, 2**31 - 1 - MAX_PAGE_COUNT,
                                  FIRST_PIECE_SEED, key=SEED_KEY,
                                  help="Same seed, same pieces, same figures.")
    if st.button("⚖️ Judge its music", type="primary", key="evaluate_go", disabled=bool(problem)):
        try:
            with st.spinner("Composing and listening…"):
                if source == SOURCE_NEW:
                    report = evaluate_model(generator, count=int(count), seed=int(seed))
                else:
                    report = evaluate_pieces(generator, mine)
            reports = st.session_state.setdefault(REPORTS, {})
            reports[str(model_path)] = Report(gen.model_mtime_ns(model_path), report)
        except TunesmithError as error:
            st.error(plain(str(error)))
    saved = st.session_state.get(REPORTS, {}).get(str(model_path))
    if saved is None or saved.model_mtime_ns != gen.model_mtime_ns(model_path):
        st.caption("Press the button: the figures appear here and a summary at the top.")
        return None
    return saved.report


def show_summary(report: EvaluationReport) -> None:
    sentences = summary_sentences(report)
    st.markdown(f"**Summary of {len(report.pieces)} piece(s)**")
    for icon, area in (("🧠", "model"), ("🎼", "style"), ("🔍", "originality")):
        st.markdown(f"{icon} **{area.capitalize()}.** {plain(sentences[area])}")
    for line in report.skipped:
        st.caption(f"Left out: {plain(line)}")


def style_section(report: EvaluationReport) -> None:
    st.markdown("#### Does it sound like the music it learned?")
    style = report.style
    st.markdown(plain(summary_sentences(report)["style"]))
    sc, pce = style.metrics["scale_consistency"], style.metrics["pitch_class_entropy"]
    cols = st.columns(4)
    cols[0].metric("Stays in one key", f"{sc.generated:.2f}", delta=f"real music {sc.real:.2f}",
                   delta_color="off", delta_arrow="off", help=EXPLANATIONS["scale_consistency"])
    cols[1].metric("Spread over 12 notes (bits)", f"{pce.generated:.2f}",
                   delta=f"real music {pce.real:.2f}", delta_color="off", delta_arrow="off",
                   help=EXPLANATIONS["pitch_class_entropy"])
    for col, name in zip(cols[2:], ("groove_consistency", "empty_beat_rate"), strict=True):
        metric = style.metrics[name]
        col.metric(FEATURE_TITLES[name].capitalize(), f"{metric.generated:.2f}",
                   delta=f"real music {metric.real:.2f}", delta_color="off", delta_arrow="off",
                   help=EXPLANATIONS[name])
    if style.overlaps:
        st.plotly_chart(overlap_figure(report), key="evaluate_overlap")
        st.caption(EXPLANATIONS["overlap"])
    else:
        st.info(style.note.capitalize() + ".")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(histogram_figure(report, "pitch_class_histogram",
                                         list(TONIC_NAMES)),
                        key="evaluate_pitch_classes")
        st.caption(EXPLANATIONS["pitch_class_histogram"])
    with right:
        st.plotly_chart(histogram_figure(report, "note_length_histogram",
                                         list(NOTE_LENGTH_LABELS)),
                        key="evaluate_note_lengths")
        st.caption(EXPLANATIONS["note_length_histogram"])


def overlap_figure(report: EvaluationReport) -> go.Figure:
    overlaps = report.style.overlaps
    names = [FEATURE_TITLES.get(k, k) for k in overlaps]
    ratios = [min(v.ratio, 1.5) * 100 for v in overlaps.values()]
    colors = ["seagreen" if r >= GOOD_OVERLAP_RATIO * 100 else "indianred" for r in ratios]
    figure = go.Figure(go.Bar(x=ratios, y=names, orientation="h", marker_color=colors,
                              hovertemplate="%{y}: %{x:.0f}% of real music<extra></extra>"))
    figure.add_vline(x=GOOD_OVERLAP_RATIO * 100, line_dash="dash", line_color="gray",
                     annotation_text=f"{GOOD_OVERLAP_RATIO:.0%}")
    figure.update_layout(title="How much like real music, feature by feature",
                         xaxis_title="% of the overlap real pieces reach with each other",
                         height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def histogram_figure(report: EvaluationReport, feature: str, labels: list[str]) -> go.Figure:
    figure = go.Figure()
    for name, figures in (("real music", report.style.real),
                          ("generated", report.style.generated)):
        rows = [getattr(f, feature) for f in figures]
        mean = [sum(column) / len(rows) for column in zip(*rows, strict=True)] if rows else []
        figure.add_trace(go.Bar(x=labels, y=mean, name=name))
    figure.update_layout(title=FEATURE_TITLES[feature].capitalize(), barmode="group",
                         yaxis_title="share of notes", height=300,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def pieces_table(report: EvaluationReport) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "piece": f.name,
            "stays in key": round(f.scale_consistency, 2),
            "spread (bits)": round(f.pitch_class_entropy, 2),
            "longest copy (bars)": round(o.longest_bars, 2),
            "copied from": o.longest.source if o.longest else "",
            "8-note stretches found": f"{o.found_share:.0%}",
            "gets stuck": "yes" if d.flagged else "no",
        }
        for f, o, d in zip(report.style.generated, report.originality, report.degeneracy,
                           strict=True)
    ])


def originality_section(report: EvaluationReport, model_path: Path) -> None:
    st.markdown("#### Is it original, or copied from the training music?")
    st.markdown(plain(summary_sentences(report)["originality"]))
    st.caption(EXPLANATIONS["copied"] + " " + EXPLANATIONS["found_share"])
    copied = [(p, o) for p, o in zip(report.pieces, report.originality, strict=True)
              if o.longest is not None]
    if not copied:
        return
    copied.sort(key=lambda item: -item[1].longest_bars)
    labels = [f"{o.name}: {o.longest_bars:.1f} bars from {o.longest.source}"
              for _, o in copied if o.longest]
    picked = st.selectbox("Listen to a copied passage beside its source", labels, key=PLAY_KEY)
    piece, found = copied[labels.index(picked)]
    passage = found.longest
    assert passage is not None
    try:
        source = load_index(model_path).source_excerpt(passage)
    except TunesmithError as error:
        st.error(plain(str(error)))
        return
    left, right = st.columns(2)
    generated = passage_excerpt(piece, passage)
    left.markdown(f"**Generated:** {plain(piece.name)}, bars "
                  f"{passage.start_bar}–{passage.end_bar}")
    left.audio(_ogg(generated), format="audio/ogg")
    right.markdown(f"**Training music:** {plain(passage.source)}, bars "
                   f"{passage.source_start_bar}–{passage.source_end_bar}")
    right.audio(_ogg(source), format="audio/ogg")
    if passage.bars >= COPY_FLAG_BARS:
        st.warning(f"{passage.bars:.1f} bars are copied: {COPY_FLAG_BARS:g} bars or more of "
                   "someone else's music in a row is worth rewriting before you share it.")


def _ogg(piece: Piece) -> bytes:
    """A passage played at the evaluation's tempo (both sides the same, so they compare)."""
    midi = piece_to_midi(piece, tempo_bpm=PAGE_TEMPO_BPM)
    return gen.render_ogg(midi_to_bytes(midi))


def degeneracy_section(report: EvaluationReport) -> None:
    st.markdown("#### Does it get stuck?")
    st.markdown(plain(summary_sentences(report)["degeneracy"]))
    st.caption(EXPLANATIONS["degeneracy"])


def details_section(report: EvaluationReport) -> None:
    st.markdown("#### Piece by piece")
    st.dataframe(pieces_table(report), hide_index=True)
    st.download_button("Download every figure (JSON)",
                       json.dumps(report_to_dict(report), indent=1, sort_keys=True),
                       file_name=f"evaluation-{report.model_name}.json",
                       mime="application/json", key="evaluate_download", icon="📊")
