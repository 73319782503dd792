"""SQL shared by the compliance search / export detections."""

from __future__ import annotations

#: How many mailboxes a search or export reaches: an export request is one mailbox, a search counts the
#: locations in ExchangeLocation ("All" counts as the whole organisation).
MAILBOXES = """CASE
            WHEN action = 'mailbox_export' THEN 1
            WHEN lower(coalesce(params['ExchangeLocation'], '')) IN ('all', '"all"') THEN 1000
            WHEN coalesce(params['ExchangeLocation'], '') <> ''
                THEN length(params['ExchangeLocation']) - length(replace(params['ExchangeLocation'], ',', '')) + 1
            ELSE 0 END"""
