"""The worker process: its runtime (runtime.py) and the queue's scheduled upkeep (upkeep.py).

Only `flask worker` imports this package; the web queues jobs through app/jobs.py.
"""
