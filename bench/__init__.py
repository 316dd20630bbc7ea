"""The benchmark: the project's OCPP server against a bare `ocpp` library server.

`make bench` (or `python -m bench`) runs five scenarios against two servers, one after the
other, with the same load: the project (`manage.py serve`, daphne, on a scratch PostgreSQL
database and Redis with a Celery worker when they are available, else SQLite and the embedded
parts) and the baseline (`bench.baseline`: the `ocpp` library on `websockets`, answering
without persisting anything). Load comes from separate worker processes speaking raw OCPP 1.6J
frames (`bench.load`).

Scenarios:
- hold: N chargers connected, booted and heartbeating; how many stayed connected, heartbeat
  p50/p99, and the growth of the server process's resident memory divided by N;
- storm: N chargers connect and boot at once; time until all are Accepted, slowest single reply
  (the upgrade or the BootNotification answer, whichever took longer);
- meter_values: closed loop of MeterValues with nine sampled values per message;
- sessions: closed loop of whole sessions (Authorize, StartTransaction, MeterValues,
  StopTransaction);
- command: N chargers connected, commands sent one at a time from another process
  (`bench.commander`) and timed until the answer is back.

For the throughput scenarios the central figure is server CPU per answered call: user+system
time from /proc of every server process (daphne, its PostgreSQL backends and the cluster's
writer processes, redis-server, the Celery worker), divided by the calls answered. It does not
depend on how much CPU the load generator takes. Every figure is printed beside the baseline's
and as the ratio project/baseline; the load generator's busiest worker is reported too (over 90%
of a core means it may have been the limit). The full results go to var/bench/<time>.json.
"""
