"""Tenancy: who may search what and how often, and what was searched.

keys (subscription keys, stored hashed), instances (custom search slices with
pins, boosts and preset parameters), limits (QPS, monthly quota and usage; a
backend by name), querylog (the searches trending learns from). Each is a
Protocol with a SQLite store, over `state` (the one owner of service.db),
and a PostgreSQL one, over `postgres_state`, for servers on several
machines; `backends` picks one by name. `wiring.build_tenancy` puts them together.
"""
