import streamlit as st

st.title("Train")
st.info("Not yet: this page arrives with its own issue.")
