"""Generate: pick a model, say how the music should feel, make 1–4 pieces and listen; hum a
tune and hear it continued; keep the good bars; share a piece by link."""

import streamlit as st

from core.errors import TunesmithError
from ui import generate_controls as controls
from ui import generation as gen
from ui import state
from ui.humming import new_recording_to_continue
from ui.piece_actions import piece_actions, share_link_control
from ui.shared_piece import show_shared_piece
from ui.text import plain

st.title("Generate")
st.write("Make new music with a trained model. Same seed and settings, same piece.")
show_shared_piece()  # a share link opened: its piece first

workspace = state.workspace_or_none()  # the bundled models play even when storage fails
choice = controls.model_picker(workspace)
generator = gen.load_chosen(choice)
seed = 0

if generator is not None:
    left, right = st.columns(2, gap="large")
    with left:
        settings = controls.music_controls(generator)
    with right:
        seed = controls.seed_control()
        count = st.slider("Variations", 1, controls.MAX_VARIATIONS, 1, key=controls.VARIATIONS_KEY)
        primer = controls.primer_picker(
            generator, state.user_music_dir() if workspace else None, seed=seed
        )
        soundfont = controls.soundfont_control(workspace)
    settings = controls.with_tune_tempo(settings, primer)
    clicked = st.button("🎹 Generate", type="primary", key="generate_go")
    if clicked or new_recording_to_continue():
        if isinstance(primer, str):
            st.error(plain(primer))
        else:
            try:
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
                gen.remember(views)
            except TunesmithError as error:
                st.error(plain(str(error)))

st.header("Your recent pieces")
recent = gen.history()
if not recent:
    st.caption("Nothing yet: press Generate.")
for view in recent:
    with st.container(border=True):
        st.subheader(view.label)
        gen.show_generation(view, key_prefix="generate")
        share_link_control(view, key_prefix="generate")
        with st.expander("Keep the good bars, or make it longer"):
            piece_actions(view, key_prefix="generate", seed=seed)
