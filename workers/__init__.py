"""The distributed job engine on PostgreSQL: a procrastinate queue, ``tds worker`` processes on
any number of machines, and the periodic tasks (job recovery, sweeps, grant expiry, witness copy).

``queue`` puts deliveries in the caller's transaction; ``tasks`` defines what workers run;
``engine`` starts a worker. The embedded default (SQLite) keeps the local pool instead.
"""
