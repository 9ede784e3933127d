"""Router and frame only: page config and navigation. Each page lives in app_pages/.

The folder is not called `pages/`: Streamlit treats a `pages/` folder as its older automatic
navigation, and a shared deep link such as /generate then opened the page without this router
(no page config, file names in the sidebar). With `app_pages/` only st.navigation routes.
"""

import streamlit as st

st.set_page_config(page_title="Tunesmith: make music with AI", page_icon="🎵", layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("app_pages/data.py", title="Data", icon="📂"),
    st.Page("app_pages/train.py", title="Train", icon="🏋️"),
    st.Page("app_pages/generate.py", title="Generate", icon="🎹"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon="⚖️"),
]
st.navigation(pages).run()
