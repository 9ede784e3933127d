"""The only Streamlit-aware helpers: session-state keys, workspace, widgets, job polling."""
