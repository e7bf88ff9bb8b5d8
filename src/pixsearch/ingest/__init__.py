"""Ingest: turn image files on disk into ImageFacts, thumbnails and Occurrences.

Pure data in, data out: nothing here touches the index, SQLite or HTTP.
``pipeline.process_file`` handles one file; ``parallel.process_many`` fans out over cores;
``sources.iter_files`` walks folders.
"""
