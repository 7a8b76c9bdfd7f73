"""Fire requests at the same moment, each on its own client, connection and session."""

import threading


def run_concurrently(app, count, request_fn):
    """Call request_fn(client, i) from `count` threads released together; return the results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        client = app.test_client()
        barrier.wait()
        results[i] = request_fn(client, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
