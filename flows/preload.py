"""Imported by the workers' fork server (:data:`flows.forkserver.WORKER_PRELOAD`), never by the
flow process: what every shard worker would otherwise load for itself, loaded once and shared
by the workers forked after (copy-on-write). First of all, it ties the fork server's life to the
process that started it (:mod:`flows.lifeline`), before the slow imports.

Today: dateparser's data for all its locales (:func:`thresher.dates.load_all_locales`), about
2 s of CPU and 40 MB that each worker paid at its first date line no locale claims.
"""

from flows.lifeline import bind_to_starter

bind_to_starter()

from thresher.dates import load_all_locales  # noqa: E402  (after the binding, on purpose)

load_all_locales()
