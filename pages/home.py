import streamlit as st

st.title("Tunesmith: make music with AI")
st.markdown(
    """
1. **Data**: bring music in (a built-in collection, your MIDI/MusicXML/ABC files, or audio).
2. **Train**: teach a small neural network (an LSTM) the style of that music.
3. **Generate**: make new pieces and listen to them.
4. **Evaluate**: is the model better than a simple baseline, and is the piece original?
"""
)
st.page_link("pages/data.py", label="Start with your data", icon="📂")
