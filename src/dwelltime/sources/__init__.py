"""Log sources: one module per format; :mod:`dwelltime.sources.registry` lists them."""
