"""lyricsdash: `streamlit run streamlit_app.py`."""

import streamlit as st

from pages.common import navigation

page = navigation()
st.session_state["via_entry_point"] = True  # pages check this (see pages.common.page_setup)
try:
    page.run()
finally:
    st.session_state["via_entry_point"] = False
