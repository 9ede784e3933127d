"""Router and frame only: page config, the settings check, and navigation. Each page lives in
app_pages/.

The folder is not called `pages/`: Streamlit treats a `pages/` folder as its older automatic
navigation, and a shared deep link such as /generate then opened the page without this router
(no page config, file names in the sidebar). With `app_pages/` only st.navigation routes.

A `TUNESMITH_*` value that cannot be used stops the app before any page runs, so no clean-up
and no job runs with it (docs/decisions/0003). `./run.sh app` refuses to start the server then;
this covers a server started another way (the container, Community Cloud). Visitors read which
setting and what it must be, without its value (it may be a server path); the log has it.
"""

import streamlit as st

from core.settings import start_check
from ui.state import keep_workspace_link

st.set_page_config(
    page_title="Tunesmith: make music with AI", page_icon=":material/music_note:", layout="wide"
)

# A disk that fails while the server runs is a fault the pages ride out: storage=False.
unusable = start_check(storage=False)
if unusable:
    for problem in unusable:
        sentence = problem.sentence(with_value=False).removesuffix(".")
        st.error(
            f"{sentence}, so the app is stopped until its operator fixes it.",
            icon=":material/settings:",
        )
    st.stop()

# A shared piece's page: links open it (/listen?p=…), the menu does not list it.
listen = st.Page(
    "app_pages/listen.py", title="Listen", icon=":material/headphones:", visibility="hidden"
)
pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/library_music:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/generate.py", title="Generate", icon=":material/piano:"),
    st.Page("app_pages/harmonize.py", title="Harmonize", icon=":material/queue_music:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/balance:"),
    listen,
]
page = st.navigation(pages)
if page is not listen:  # a shared piece's page shows nothing of a workspace
    keep_workspace_link()
page.run()
