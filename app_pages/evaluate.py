import streamlit as st

st.title("Evaluate")
st.info("Not yet: this page arrives with its own issue.")
