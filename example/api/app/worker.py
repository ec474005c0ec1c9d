"""Example email worker: marks pending outbox rows sent. Single instance by design."""

import logging
import signal
import time

import psycopg2

from .db import connect

logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
log = logging.getLogger("worker")
running = True

CLAIM = """
UPDATE outbox SET status = 'sent', processed_at = now()
WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' ORDER BY id
             FOR UPDATE SKIP LOCKED LIMIT 50)
RETURNING id
"""


def stop(*_):
    global running
    running = False


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("started")
    conn = None
    while running:
        try:
            conn = conn or connect()
            with conn, conn.cursor() as cur:
                cur.execute(CLAIM)
                sent = cur.fetchall()
            if sent:
                log.info("sent %d emails", len(sent))
        except psycopg2.Error as e:
            log.info("waiting for the database (%s)", type(e).__name__)
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(1)
    log.info("stopped")


if __name__ == "__main__":
    main()
