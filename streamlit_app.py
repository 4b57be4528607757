"""lyricsdash: `streamlit run streamlit_app.py`."""

import streamlit as st

st.set_page_config(page_title="lyricsdash", page_icon="🎤", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/data.py", title="Data", icon="📚"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/classify.py", title="Classify", icon="🔎"),
    st.Page("pages/runs.py", title="Runs", icon="🗂️"),
]
st.navigation(pages).run()
