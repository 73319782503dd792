"""One module per detection; each defines ``DETECTION`` (see :mod:`dwelltime.detect.base`)."""
