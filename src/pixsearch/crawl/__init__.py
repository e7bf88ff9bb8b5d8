"""Web ingestion: the crawler, HTML extraction, WARC archives and URL lists."""
