"""lyricsdash: train an LSTM that tells which artist wrote a song's lyrics, and use it.

Modules, one job each: ``config`` (hyperparameters), ``data`` (CSV loading and splits), ``sources`` (which
songs), ``demo`` (synthetic corpus), ``text`` (tokenizer, vocabulary), ``cache`` (on-disk token cache),
``batches`` (encoding, windows, length buckets), ``prepare`` (the one data preparation), ``nb`` (naive-Bayes
embedding init), ``baselines`` (TF-IDF + LR), ``model`` (the LSTM), ``records`` (per-step records,
callbacks), ``evaluate`` (scoring songs), ``engine`` (the training loop), ``distributed`` (torchrun),
``runs`` (run folders), ``predictor``, ``report`` and ``charts`` (report text, Plotly figures), ``jobs``
(background training), ``experiments`` (runs over seeds, sweeps, CV), ``stats`` (numbers for the pages),
``cli``. This package never imports streamlit.
"""

__version__ = "0.2.0"
