"""lyricsdash: `streamlit run streamlit_app.py`. The frame every page shares: navigation and the data sidebar."""

import streamlit as st

from pages.common import navigation
from pages.source import data_sidebar

page = navigation()
data_sidebar()
st.session_state["via_entry_point"] = True  # the pages' deep-link workaround checks this (pages.common.page_setup)
try:
    page.run()
finally:
    st.session_state["via_entry_point"] = False
