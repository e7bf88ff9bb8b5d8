"""pixsearch: a self-hosted image search engine answering the Bing Image Search API v7."""

__version__ = "0.1.0"
