"""Judging a model and its music: pure functions on pieces and notes, no Streamlit.

- `features`: per-piece figures (MusPy's metrics, the style features of Yang & Lerch).
- `overlap`: distance distributions, their densities and overlapping area (OA).
- `style`: a generated set against the held-out real pieces, with real-vs-real as reference.
- `originality`: the longest passage copied from the training music, via an index.
- `degeneracy`: one token, one note or one bar repeated over and over.
- `model_data`: the held-out pieces and training notes a model folder keeps for all of this.
- `report`: everything above for one model and one set of pieces, as one JSON-able record.
- `verdicts`: the figures as plain sentences for people who cannot read music.
"""
