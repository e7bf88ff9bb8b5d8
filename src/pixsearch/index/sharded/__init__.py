"""One index split into N shards, served as one ``ReadStore``.

``routing`` says which shard a near-duplicate group lives on and how shard-local
ids become global ones; ``merge`` is the scatter-gather store over N shards
(any ``ReadStore``s: embedded directories, or Ray Serve deployments from
``ray_shards``, keeping what they fetched in ``kept``); ``local`` opens shard
directories by name (the ``sharded`` backend); ``split`` copies an index into N
shards (tests, benchmarks, resharding).
"""
