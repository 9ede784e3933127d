import streamlit as st

st.title("Generate")
st.info("Not yet: this page arrives with its own issue.")
