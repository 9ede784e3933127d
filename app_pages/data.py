"""Data: pick a built-in collection, upload music files or audio, and look at the pieces."""

import streamlit as st

from core.data import COLLECTIONS, DEFAULT_COLLECTION, stored_files
from core.music import MUSIC_UPLOAD_TYPES, midi_to_bytes, piece_to_figure, piece_to_midi
from ui import data_widgets as dw
from ui import state
from ui.text import plain

st.title("Your music")
st.caption("Choose what the model will learn from. The chosen dataset stays selected for training.")
state.workspace()
state.restore_dataset()  # after a reload, the music chosen before

tab_builtin, tab_upload, tab_audio = st.tabs(
    ["Built-in collections", "Upload music files", "Upload audio"]
)

with tab_builtin:
    preset_names = list(COLLECTIONS)
    preset = st.selectbox(
        "Collection",
        preset_names,
        index=preset_names.index(DEFAULT_COLLECTION),
        format_func=lambda n: COLLECTIONS[n].title,
        key="data_preset",
    )
    st.caption(COLLECTIONS[preset].description)
    limit = st.number_input(
        "Use only the first N files (0 = all)",
        min_value=0,
        value=0,
        step=10,
        key="data_limit",
        help="Fewer files load and train faster; good for a quick try. Their held-out "
        "pieces are ones the base model never trained on (one is added when none is among "
        "them).",
    )
    if st.button("Use this collection", type="primary", key="data_use_preset"):
        state.choose_dataset([preset], COLLECTIONS[preset].title, int(limit) or None)

with tab_upload:
    st.write("MIDI, MusicXML or ABC files. Each file is checked; a bad one never stops the rest.")
    uploads = st.file_uploader(
        "Music files", type=MUSIC_UPLOAD_TYPES, accept_multiple_files=True, key="data_uploads"
    )
    if uploads and st.button("Add to my dataset", key="data_add_uploads"):
        dw.add_uploads(uploads)
    mine = stored_files(state.user_music_dir())
    if mine:
        files = f"{len(mine)} file" + ("" if len(mine) == 1 else "s")
        st.write(f"**{dw.MY_DATASET}**: {files}: " + plain(", ".join(f.name for f in mine)))
        st.caption("A file can hold several pieces (an ABC tune book, a MusicXML collection), "
                   "so the pieces below may outnumber the files.")
        left, right = st.columns(2)
        if left.button("Use my dataset", type="primary", key="data_use_mine"):
            dw.use_my_dataset()
        if right.button("Empty my dataset", key="data_clear_mine"):
            dw.empty_user_music()

with tab_audio:
    try:
        from ui.audio_import import render_audio_import
    except ImportError:
        st.info("Audio transcription is not available yet.")
    else:
        render_audio_import()

config = dw.encoding_controls()  # at the chosen dataset's encoding
state.set_dataset_encoding(config.to_dict())

sources = st.session_state.get(state.DATASET_SOURCES)
st.divider()
if not sources:
    st.info("Pick a collection or add your files, then press “Use …”.")
    st.stop()

name = st.session_state.get(state.DATASET_NAME, "dataset")
st.subheader(f"Dataset: {plain(name)}")
dataset = dw.load_dataset_with_progress(
    sources, config=config, name=name, limit=st.session_state.get(state.DATASET_LIMIT)
)
if dataset is None:
    st.stop()
dw.show_summary(dataset)
if st.session_state.get(state.DATASET_LIMIT) and all(s in COLLECTIONS for s in sources):
    st.caption("Held out: pieces the base model never trained on, so a model of this music is "
               "judged fairly. When none of the first files is one, one such piece of the "
               "collection is added.")
table = dw.pieces_table(dataset.pieces, {p.name for p in dataset.valid})
event = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=300,
    on_select="rerun",
    selection_mode="single-row",
    key="data_table",
)
rows = event.selection.rows if event and event.selection else []
piece = dataset.pieces[rows[0] if rows else 0]
st.markdown(f"**{plain(piece.name)}**: {len(piece.notes)} notes, {piece.duration_s:.0f} s, "
            f"{plain(piece.key)}")
st.plotly_chart(piece_to_figure(piece), width="stretch", key="data_roll")
midi_bytes = midi_to_bytes(piece_to_midi(piece))
listen, download = st.columns(2)
if listen.toggle(":material/volume_up: Listen", key="data_listen"):
    listen.audio(dw.render_preview(midi_bytes), format="audio/mpeg")
download.download_button(
    "Download MIDI",
    midi_bytes,
    file_name=f"{piece.name}.mid",
    mime="audio/midi",
    key="data_download_midi",
)
