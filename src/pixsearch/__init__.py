"""pixsearch: a self-hosted image search engine answering the Bing Image Search API v7."""

__version__ = "0.1.0"

# usearch loaded before onnxruntime crashes the process; models/loadorder.py explains.
from pixsearch.models import loadorder as _loadorder

_loadorder.install()
