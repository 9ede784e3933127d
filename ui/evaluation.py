"""The Evaluate page's pieces: model choice, the model in words, judging a set of its pieces
with progress, the set in words, and every figure behind those words under "details".

A report is a pure function of (model folder version, pieces), so the last one per model lives
in this session's state, with the request that made it: the same request again is answered
from there, never judged twice. Judging runs in the script (20 pieces take a few seconds), with
the button locked and a progress bar while it runs.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
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
    SET_STAGE,
    EvaluationReport,
    ModelFigures,
    bars_text,
    check_model_folder,
    evaluate_model,
    evaluate_pieces,
    heldout_sentence,
    model_headline,
    model_verdict,
    originality_words,
    piece_without_primer,
    prepare_evaluation,
    read_style_check,
    report_to_dict,
    set_headline,
    stuck_words,
    style_words,
    summary_sentences,
    training_story,
    tunes_learned,
)
from core.generation import PAGE_TEMPO_BPM, Generator
from core.model import COPY_FLAG_BARS, load_index, passage_excerpt
from core.music import TONIC_NAMES, Piece, midi_to_bytes, piece_to_midi
from ui import generation as gen
from ui import state
from ui.jobs import PLOTLY_CONFIG, loss_figure, show_headline
from ui.player import ogg_to_mp3, player
from ui.text import plain

# Session-state keys.
REPORTS = "evaluate_reports"  # dict[model path, Report]: the last report per model
RUNNING = "evaluate_running"  # the JudgeRequest being judged (set by the button's callback)
ERROR_KEY = "evaluate_error"  # why the last judging failed, shown once
MODEL_KEY = "evaluate_model"
SOURCE_KEY = "evaluate_source"
COUNT_KEY = "evaluate_count"
SEED_KEY = "evaluate_seed"
PLAY_KEY = "evaluate_play_piece"
GO_KEY = "evaluate_go"
COPY_PLAYER_KEY = "evaluate_copy_its"  # the player of its passage
SOURCE_PLAYER_KEY = "evaluate_copy_learned"  # the player of the music it comes from

MAX_PAGE_COUNT = 50  # pieces per evaluation in the page (the CLI allows more)
# The choices kept while the visitor is on other pages (`ui.state.restore_choices`).
CHOICE_DEFAULTS: dict[str, object] = {
    MODEL_KEY: None,
    SOURCE_KEY: None,
    COUNT_KEY: DEFAULT_COUNT,
    SEED_KEY: FIRST_PIECE_SEED,
}
SOURCE_NEW = "Write new pieces"
SOURCE_SESSION = "Use the pieces I made on the Generate page"

# Icons of the summary's lines (Material icons ship with Streamlit: no emoji font needed).
SUMMARY_ICONS = {
    "style": ":material/music_note:",
    "originality": ":material/fingerprint:",
    "stuck": ":material/repeat:",
    "form": ":material/replay:",
}


@dataclass(frozen=True)
class JudgeRequest:
    """One press of "Judge its music": which model version, and which pieces."""

    model_path: str
    model_mtime_ns: int
    new_pieces: bool  # True: write `count` pieces from `seed`; False: the Generate pieces
    count: int
    seed: int
    piece_ids: tuple[str, ...] = ()  # the Generate page's pieces judged


@dataclass(frozen=True)
class Report:
    """A report with the request it answers."""

    request: JudgeRequest
    report: EvaluationReport


MAX_SHARED_REPORTS = 8  # reports of the built-in models kept for every visitor (a few MB each)


@dataclass
class _SharedReports:
    """The built-in models' reports, shared by every session of this server: a visitor who
    presses the button with the settings someone already judged gets that report at once. Only
    the built-in models: a visitor's own model is their data, and stays in their session."""

    reports: OrderedDict[JudgeRequest, EvaluationReport] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, request: JudgeRequest) -> EvaluationReport | None:
        with self.lock:
            if request in self.reports:
                self.reports.move_to_end(request)
            return self.reports.get(request)

    def put(self, request: JudgeRequest, report: EvaluationReport) -> None:
        with self.lock:
            self.reports[request] = report
            while len(self.reports) > MAX_SHARED_REPORTS:
                self.reports.popitem(last=False)


@st.cache_resource
def _shared_reports() -> _SharedReports:
    return _SharedReports()


_PREPARED: set[tuple[str, int]] = set()  # model versions prepared in this process
_PREPARED_LOCK = threading.Lock()


def prepare_in_background(generator: Generator, model_path: Path) -> None:
    """Start preparing the chosen model's evaluation (MusPy, its index, its held-out figures)
    while the visitor reads the page, once per model version per process: a first click then
    only writes and judges the pieces. No Streamlit call happens in the thread."""
    key = (str(model_path.resolve()), gen.model_mtime_ns(model_path))
    with _PREPARED_LOCK:
        if key in _PREPARED:
            return
        _PREPARED.add(key)
    threading.Thread(target=prepare_evaluation, args=(model_path, generator.encoding),
                     name="evaluate-prepare", daemon=True).start()


def _is_bundled(model_path: str) -> bool:
    return Path(model_path).resolve() in {c.path.resolve() for c in gen.bundled_choices()}


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
                         help="A built-in model, or one you trained (My models).")
    return choices[labels.index(label)] if label in labels else choices[0]


def is_mine(choice: gen.ModelChoice) -> bool:
    """A model the visitor trained or added, not a built-in one."""
    return not _is_bundled(str(choice.path))


# ---------------------------------------------------------------- the model, in words


def model_section(generator: Generator, *, mine: bool) -> None:
    """The page's first sentence: did the model learn its music (and, for the visitor's own,
    which round was kept and why)."""
    figures = ModelFigures.from_metrics(generator.name, generator.metrics)
    check = read_style_check(generator.metrics)
    show_headline(model_headline(figures, check, mine=mine), check)
    if mine and generator.path is not None:
        story = training_story(figures, tunes=tunes_learned(generator.path, generator.metrics))
        if story:
            st.markdown(plain(" ".join(story)))


# ---------------------------------------------------------------- judging a set of pieces


def session_pieces(generator: Generator) -> list[tuple[str, Piece]]:
    """(id, piece) of this session's Generate-page pieces of this model, without their
    primers' notes."""
    return [(v.id, piece_without_primer(v.result)) for v in gen.history()
            if v.result.model_name == generator.name]


def _ask(model_path: str, model_mtime_ns: int, piece_ids: tuple[str, ...]) -> None:
    """The button's callback: ask for a judging, unless one runs or this one is answered.

    It reads the settings from session state (callbacks run after the widgets' new values are
    in, before the script), so the request is what the visitor sees on the page."""
    if st.session_state.get(RUNNING) is not None:
        return  # a second click while one runs: nothing more to do
    new = st.session_state.get(SOURCE_KEY, SOURCE_NEW) == SOURCE_NEW
    request = JudgeRequest(
        model_path=model_path,
        model_mtime_ns=model_mtime_ns,
        new_pieces=new,
        count=int(st.session_state.get(COUNT_KEY, DEFAULT_COUNT)) if new else len(piece_ids),
        seed=int(st.session_state.get(SEED_KEY, FIRST_PIECE_SEED)) if new else 0,
        piece_ids=() if new else piece_ids,
    )
    saved = st.session_state.get(REPORTS, {}).get(model_path)
    if saved is not None and saved.request == request:
        return  # the same pieces judged already: the report on the page is this one's
    shared = _shared_reports().get(request) if new and _is_bundled(model_path) else None
    if shared is not None:  # judged for another visitor already
        st.session_state.setdefault(REPORTS, {})[model_path] = Report(request, shared)
        return
    st.session_state[RUNNING] = request


def judge_controls(generator: Generator, model_path: Path) -> EvaluationReport | None:
    """Pick the pieces (new or this session's) and judge them; returns the model's last report.

    While a judging runs its button is locked and a bar says which piece it is on."""
    st.subheader("Judge its music")
    try:  # said before any click: a model without its held-out pieces cannot be judged
        check_model_folder(model_path)
        problem = ""
    except TunesmithError as error:
        problem = str(error)
        st.error(plain(problem))
    if not problem:
        prepare_in_background(generator, model_path)
    mine = session_pieces(generator)
    options = [SOURCE_NEW] + ([f"{SOURCE_SESSION} ({len(mine)})"] if mine else [])
    source = st.radio("Which pieces", options, key=SOURCE_KEY, horizontal=True)
    if source == SOURCE_NEW:
        left, right = st.columns(2)
        left.slider("How many pieces", 5, MAX_PAGE_COUNT, key=COUNT_KEY,
                    help="Each is 30 seconds, made with the default settings.")
        right.number_input("Seed of the first piece", 0, 2**31 - 1 - MAX_PAGE_COUNT, key=SEED_KEY,
                           help="Same seed, same pieces, same figures.")
    mtime = gen.model_mtime_ns(model_path)
    running: JudgeRequest | None = st.session_state.get(RUNNING)
    if running is not None and (running.model_path, running.model_mtime_ns) != (
            str(model_path), mtime):
        st.session_state.pop(RUNNING, None)  # asked for another model (or version) than this
        running = None
    st.button("Judge its music", type="primary", key=GO_KEY,
              icon=":material/balance:", disabled=bool(problem) or running is not None,
              on_click=_ask, args=(str(model_path), mtime, tuple(i for i, _ in mine)))
    if running is not None:
        _judge(running, generator, dict(mine))  # ends in a rerun: the button unlocked
    failure = st.session_state.pop(ERROR_KEY, None)
    if failure:
        st.error(plain(failure))
    saved = st.session_state.get(REPORTS, {}).get(str(model_path))
    if saved is None or saved.request.model_mtime_ns != mtime:
        st.caption("Press the button: it writes the pieces and listens to each, and what it "
                   "found appears above.")
        return None
    return saved.report


def _judge(request: JudgeRequest, generator: Generator, pieces: dict[str, Piece]) -> None:
    """Run the judging with a progress bar, keep its report (or its error), and rerun."""
    with st.status("Judging its music…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")

        def on_progress(done: int, total: int, info: str) -> None:
            text = (f"Comparing the {total} pieces with real music" if info == SET_STAGE
                    else f"Judging {info}")
            bar.progress(min(done / total, 1.0) if total else 0.0, text=text)

        try:
            if request.new_pieces:
                report = evaluate_model(generator, count=request.count, seed=request.seed,
                                        on_progress=on_progress)
            else:
                chosen = [pieces[i] for i in request.piece_ids if i in pieces]
                report = evaluate_pieces(generator, chosen, on_progress=on_progress)
        except TunesmithError as error:
            st.session_state[ERROR_KEY] = str(error)
            status.update(label="Could not judge its music", state="error")
        else:
            st.session_state.setdefault(REPORTS, {})[request.model_path] = Report(request,
                                                                                  report)
            if request.new_pieces and _is_bundled(request.model_path):
                _shared_reports().put(request, report)
            status.update(label=f"Judged {len(report.pieces)} pieces", state="complete")
    st.session_state.pop(RUNNING, None)
    st.rerun()


def show_summary(report: EvaluationReport) -> None:
    """The judged set in words: one sentence, then one line per question."""
    headline = set_headline(report)
    (st.success if headline.good else st.info)(plain(headline.text))
    lines = {"style": style_words(report), "originality": originality_words(report),
             "stuck": stuck_words(report)}
    if report.form:  # do its tunes come back to their phrases, as real ones do?
        lines["form"] = summary_sentences(report)["form"]
    for area, words in lines.items():
        st.markdown(f"{SUMMARY_ICONS[area]} {plain(words)}")
    made = report.generation
    if made.get("seed") is not None:
        first, count = int(made["seed"]), int(made.get("count", len(report.pieces)))
        st.caption(f"{len(report.pieces)} pieces of 30 seconds (seeds {first}–"
                   f"{first + count - 1}).")
    for line in report.skipped:
        st.caption(f"Left out: {plain(line)}")


# ---------------------------------------------------------------- copies, side by side


def copies_section(report: EvaluationReport, model_path: Path) -> None:
    """A copied passage beside the training music it comes from, to listen to."""
    copied = [(p, o) for p, o in zip(report.pieces, report.originality, strict=True)
              if o.longest is not None]
    if not copied:
        return
    st.markdown("#### Its passages closest to the music it learned, side by side")
    copied.sort(key=lambda item: -item[1].longest_bars)
    labels = [f"{o.name}: {o.longest_bars:.1f} bars from {o.longest.source}"
              for _, o in copied if o.longest]
    picked = st.selectbox("A passage found in the music it learned", labels, key=PLAY_KEY)
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
    with left:
        st.markdown(f"**Its piece:** {plain(piece.name)}, "
                    f"{bars_text(passage.start_bar, passage.end_bar)}")
        _play(generated, key=COPY_PLAYER_KEY)
    with right:
        st.markdown(f"**The music it learned:** {plain(passage.source)}, "
                    f"{bars_text(passage.source_start_bar, passage.source_end_bar)}")
        _play(source, key=SOURCE_PLAYER_KEY)
    if passage.bars >= COPY_FLAG_BARS:
        st.warning(f"{passage.bars:.1f} bars are copied: {COPY_FLAG_BARS:g} bars or more of "
                   "someone else's music in a row is worth rewriting before you share it.")


def _play(piece: Piece, *, key: str) -> None:
    """A passage in the player, as MP3 at the evaluation's tempo (both sides the same, so they
    compare); its picture drawn from the same MIDI, so the notes move with the sound."""
    midi = midi_to_bytes(piece_to_midi(piece, tempo_bpm=PAGE_TEMPO_BPM))
    player(midi, ogg_to_mp3(gen.render_ogg(midi)), key=key)


# ---------------------------------------------------------------- details: every figure


def details_section(generator: Generator, report: EvaluationReport | None) -> None:
    """Every figure behind the words, each with a line saying what it means."""
    with st.expander("Details: the figures behind these words", icon=":material/info:"):
        _model_figures(generator)
        if report is not None:
            _style_figures(report)
            _originality_figures(report)
            _pieces_table(report)


def _model_figures(generator: Generator) -> None:
    st.markdown("##### How well it predicts music it never saw")
    figures = ModelFigures.from_metrics(generator.name, generator.metrics)
    if figures is None:
        st.info("This model carries no figures from its training.")
        return
    st.markdown(plain(model_verdict(figures)))  # the style check's figures: under the headline
    cols = st.columns(4)
    cols[0].metric("Held-out perplexity", f"{figures.val_perplexity:.2f}",
                   help=EXPLANATIONS["perplexity"])
    cols[1].metric(f"{figures.baseline_order or 4}-gram baseline",
                   f"{figures.baseline_perplexity:.2f}", help=EXPLANATIONS["baseline"])
    cols[2].metric("Next-note accuracy", f"{figures.val_accuracy:.1%}",
                   delta=f"{figures.val_accuracy - figures.baseline_accuracy:+.1%} vs baseline",
                   help=EXPLANATIONS["accuracy"])
    cols[3].metric("Rounds trained", str(figures.epochs_run or len(figures.history)),
                   help=f"The best round on held-out music was round {figures.best_epoch}.")
    st.caption(f"Held-out perplexity: {EXPLANATIONS['perplexity']} "
               f"N-gram baseline: {EXPLANATIONS['baseline']} "
               "Held-out pieces: pieces set aside, never trained on, to judge it fairly.")
    if figures.fine_tuned_from:
        st.caption(f"Fine-tuned from the pretrained {plain(figures.fine_tuned_from)} model, on "
                   f"{plain(figures.dataset or 'its music')}. {plain(heldout_sentence(figures))}")
    if figures.history:
        st.plotly_chart(loss_figure(figures.history, {"loss": figures.baseline_loss},
                                    figures.start),
                        key=f"evaluate_curves_{generator.name}", config=PLOTLY_CONFIG)
        st.caption("Lower is better. The loss is the same surprise as perplexity, in nats per "
                   "token (perplexity = e^loss); the dashed line is the note-counting "
                   "model's on the same held-out pieces.")


def _style_figures(report: EvaluationReport) -> None:
    st.markdown("##### Does it sound like the music it learned?")
    st.markdown(plain(summary_sentences(report)["style"]))
    style = report.style
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
    st.caption(" ".join(f"{FEATURE_TITLES[name].capitalize()}: {EXPLANATIONS[name]}"
                        for name in ("scale_consistency", "pitch_class_entropy",
                                     "groove_consistency", "empty_beat_rate")))
    if style.overlaps:
        st.plotly_chart(overlap_figure(report), key="evaluate_overlap", config=PLOTLY_CONFIG)
        st.caption(EXPLANATIONS["overlap"])
    else:
        st.caption(plain(style.note.capitalize() + "."))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(histogram_figure(report, "pitch_class_histogram", list(TONIC_NAMES)),
                        key="evaluate_pitch_classes", config=PLOTLY_CONFIG)
        st.caption(EXPLANATIONS["pitch_class_histogram"])
    with right:
        st.plotly_chart(histogram_figure(report, "note_length_histogram",
                                         list(NOTE_LENGTH_LABELS)),
                        key="evaluate_note_lengths", config=PLOTLY_CONFIG)
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
                          ("its pieces", report.style.generated)):
        rows = [getattr(f, feature) for f in figures]
        mean = [sum(column) / len(rows) for column in zip(*rows, strict=True)] if rows else []
        figure.add_trace(go.Bar(x=labels, y=mean, name=name))
    figure.update_layout(title=FEATURE_TITLES[feature].capitalize(), barmode="group",
                         yaxis_title="share of notes", height=300,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def _originality_figures(report: EvaluationReport) -> None:
    sentences = summary_sentences(report)
    st.markdown("##### Is it its own, or copied?")
    st.markdown(plain(sentences["originality"]))
    st.caption(EXPLANATIONS["copied"] + " " + EXPLANATIONS["found_share"])
    st.markdown("##### Does it get stuck?")
    st.markdown(plain(sentences["degeneracy"]))
    st.caption(EXPLANATIONS["degeneracy"])
    if "form" in sentences:
        st.markdown("##### Do its tunes come back to their phrases?")
        st.markdown(plain(sentences["form"]))
        st.caption("A bar comes back when a later bar has the same rhythm and the same steps "
                   "up and down in its melody (at any pitch), 1, 2, 4 or 8 bars later; real "
                   "tunes answer their lines and play their strains twice.")


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


def _pieces_table(report: EvaluationReport) -> None:
    st.markdown("##### Piece by piece")
    st.dataframe(pieces_table(report), hide_index=True)
    st.download_button("Download every figure (JSON)",
                       json.dumps(report_to_dict(report), indent=1, sort_keys=True),
                       file_name=f"evaluation-{report.model_name}.json",
                       mime="application/json", key="evaluate_download",
                       icon=":material/download:")
