"""lyricsdash: `streamlit run streamlit_app.py`. The frame every page shares: navigation and the data sidebar.

Streamlit runs this file as __main__. A training process, spawned by multiprocessing while a click on Start is
being handled, imports the main module again as __mp_main__: it must neither run the app nor import the pages
(multiprocessing's "safe importing of the main module"). Unguarded, the child ran the whole app in Streamlit's
bare mode, which delayed its training and logged bare-mode warnings to the server console.
"""

if __name__ == "__main__":
    import streamlit as st

    from ui.common import navigation
    from ui.source import data_sidebar

    page = navigation()
    data_sidebar()
    st.session_state["via_entry_point"] = True  # the pages' deep-link workaround checks this (page_setup)
    try:
        page.run()
    finally:
        st.session_state["via_entry_point"] = False
