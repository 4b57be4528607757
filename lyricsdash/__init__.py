"""lyricsdash: train an LSTM that tells which artist wrote a song's lyrics, and use it.

Modules, one job each: ``config`` (hyperparameters), ``data`` (CSV loading and
splits), ``demo`` (synthetic corpus), ``text`` (tokenizer, vocabulary),
``cache`` (on-disk token cache), ``batches`` (encoding, length buckets),
``model`` (the LSTM), ``engine`` (training loop with callbacks), ``runs``
(run folders), ``predictor``, ``charts`` (Plotly figures), ``jobs``
(background training), ``stats`` (numbers for the pages), ``cli``.
This package never imports streamlit.
"""

__version__ = "0.1.0"
