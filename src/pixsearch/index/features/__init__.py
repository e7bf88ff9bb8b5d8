"""Feature shards: the pipeline's output kept apart from any index, and indexes built from it.

``schema`` says what a feature record holds and how it is laid out in Parquet;
``folder`` reads and writes shards and their content-addressed thumbnails on a
local folder or any ``pyarrow.fs``/``fsspec`` filesystem; ``groups`` assigns
every image its near-duplicate group over all shards at once; ``build`` writes
one index, or N shards of one, from feature shards through ``WriteStore``;
``reindex`` rebuilds an existing index under the current schema from its own
stored features.
"""
