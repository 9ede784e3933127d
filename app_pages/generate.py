"""Generate: pick a model, say how the music should feel, make 1–4 pieces and listen; hum a
tune and hear it continued; keep the good bars; share a piece by link. Every piece made is
kept in "Your pieces" (ui.library)."""

import streamlit as st

from core.errors import TunesmithError
from core.generation import LINK_KEYS, is_share_link
from core.library import Kind
from ui import clicks, state
from ui import generate_controls as controls
from ui import generation as gen
from ui.humming import new_recording_to_continue
from ui.library import show_library
from ui.text import plain

# A share link made before pieces had a listen page (/generate?v=2&model=…) opens there now.
link = {k: v for k, v in st.query_params.to_dict().items() if k in LINK_KEYS}
if is_share_link(link):
    st.switch_page("app_pages/listen.py", query_params=link)

st.title("Generate")
st.write("Make new music with a trained model. Every press makes a new piece, kept below.")

workspace = state.workspace_or_none()  # the bundled models play even when storage fails
state.restore_choices(controls.CHOICE_DEFAULTS)  # as the visitor left them, on another page
choice = controls.model_picker(workspace)
generator = gen.load_chosen(choice)

if generator is not None:
    left, right = st.columns(2, gap="large")
    with left:
        settings = controls.music_controls(generator)
    with right:
        count = st.slider("Variations", 1, controls.MAX_VARIATIONS, key=controls.VARIATIONS_KEY)
        seed = controls.seed_control()
        primer = controls.primer_picker(
            generator, state.user_music_dir() if workspace else None, seed=seed
        )
        soundfont = controls.soundfont_control(workspace)
    settings = controls.with_whole_length(controls.with_tune_tempo(settings, primer), primer,
                                          generator)
    asked = gen.work_asked("generate")
    clicks.button(
        "Composing…" if asked else "Generate",
        icon=":material/hourglass_top:" if asked else ":material/piano:",
        type="primary",
        key="generate_go",
        on_click=controls.generate_clicked,
        disabled=gen.busy(),
    )
    recording = not gen.busy() and new_recording_to_continue()
    if asked or recording:
        if not asked:
            seed = controls.seed_for_next_piece()
        try:
            if isinstance(primer, str):
                raise TunesmithError(primer)
            kind = Kind.CONTINUED if recording or controls.continuing() else Kind.NEW
            with st.spinner("Composing and rendering…"):
                views = gen.make_views(
                    generator,
                    settings,
                    seed=seed,
                    count=count,
                    primer=primer,
                    soundfont=soundfont,
                    label=choice.label if choice else "",
                )
                gen.keep(views, kind=kind)
            controls.show_used_seed(seed)
        except TunesmithError as error:
            st.session_state[controls.GENERATE_ERROR] = plain(str(error))
        if asked:
            gen.work_done()
    refusal = st.session_state.pop(controls.GENERATE_ERROR, None)
    if refusal:
        st.error(refusal)
    state.keep_choices(controls.CHOICE_DEFAULTS)

show_library(key_prefix="generate")
gen.drop_unhandled_work()
