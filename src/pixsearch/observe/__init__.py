"""Metrics and logs any layer may use: stdlib and prometheus_client only, nothing of pixsearch's.

``metrics``: the server's process-wide metric objects, the stage timer and the
/metrics exposition; ``jobs``: ingest and crawl counters and their textfile;
``logs``: text or JSON log lines for the server and the CLI jobs. docs/operations.md
names every metric.
"""
