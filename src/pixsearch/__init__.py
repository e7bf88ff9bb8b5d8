"""pixsearch: a self-hosted image search engine answering the Bing Image Search API v7."""

from pixsearch.models import loadorder as _loadorder
from pixsearch.models import runtime as _runtime

__version__ = "0.1.0"

# onnxruntime phones home from its import on unless told first; models/runtime.py explains.
_runtime.keep_offline()
# usearch loaded before onnxruntime crashes the process; models/loadorder.py explains.
_loadorder.install()
