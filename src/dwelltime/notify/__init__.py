"""Telling who must be told: letters to affected parties, regulator drafts, threat-intel sharing.

Reads the exposure report of :mod:`dwelltime.scope` (its contract is
:mod:`dwelltime.scope.contract`) and writes, without sending anything: one letter per affected
organisation (Markdown + HTML, Japanese or English), the PPC and GDPR Art. 33 drafts with their
clocks, a STIX 2.1 bundle and a MISP event.  Entry point: :func:`dwelltime.notify.run.notify`.
"""
