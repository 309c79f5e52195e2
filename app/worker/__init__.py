"""The worker process: its runtime (runtime.py), procrastinate's App with the tasks the features
declared (tasks.py) and the queue's scheduled upkeep (upkeep.py).

Only `flask worker` imports this package; the web queues jobs through app/jobs.py.
"""
