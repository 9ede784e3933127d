"""Generate: pick a model, say how the music should feel, make 1–4 pieces and listen."""

import streamlit as st

from core.errors import TunesmithError
from ui import generation as gen
from ui import state
from ui.text import plain

st.title("Generate")
st.write("Make new music with a trained model. Same seed and settings, same piece.")

workspace = state.workspace_or_none()  # the bundled models play even when storage fails
choice = gen.model_picker(workspace)
generator = gen.load_chosen(choice)

if generator is not None:
    left, right = st.columns(2, gap="large")
    with left:
        settings = gen.music_controls()
    with right:
        seed = gen.seed_control()
        count = st.slider("Variations", 1, gen.MAX_VARIATIONS, 1, key=gen.VARIATIONS_KEY)
        primer = gen.primer_picker(
            generator, state.user_music_dir() if workspace else None, seed=seed
        )
        soundfont = gen.soundfont_control(workspace)
    if st.button("🎹 Generate", type="primary", key="generate_go"):
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
