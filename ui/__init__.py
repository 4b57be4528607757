"""The pages' Streamlit helpers (``pages/`` holds the page scripts only; ``lyricsdash`` never imports
streamlit)."""
