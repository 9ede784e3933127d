"""Router and frame only: page config and navigation. Each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Tunesmith: make music with AI", page_icon="🎵", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/data.py", title="Data", icon="📂"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/generate.py", title="Generate", icon="🎹"),
    st.Page("pages/evaluate.py", title="Evaluate", icon="⚖️"),
]
st.navigation(pages).run()
