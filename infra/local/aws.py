"""Starts moto in server mode in this process and points every boto3 client of the process at it."""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer

from infra.local import moto_disk, moto_dynamodb, moto_streams

REGION = "eu-central-1"
ACCOUNT_ID = "123456789012"  # moto's default account

# Variables this module sets; the caller can put the old values back when the stack stops.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


TABLE_STORES = ("disk", "memory")


class Moto:
    def __init__(self, table_store: str = "disk") -> None:
        if table_store not in TABLE_STORES:
            raise ValueError(f"table_store is one of {TABLE_STORES}, not {table_store!r}")
        self._table_store = table_store
        self.disk: moto_disk.Store | None = None  # while started with table_store "disk"
        self._previous_store: moto_disk.Store | None = None
        # port 0: the OS picks a free port, so two stacks (or a stack and a test run) never collide.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        # werkzeug logs every AWS call moto serves; that drowns the console.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto_dynamodb.install()  # transactions and queries that do not slow down as tables grow
        moto_streams.install()  # stream records and shard iterators that do not pile up
        # disk: the tables' items in a SQLite file that goes when the stack stops, so memory
        # stays flat however much the stack stores (infra/local/moto_disk.py)
        moto_disk.install()  # tables in memory stay as they are: only a store in use changes them
        self.disk = moto_disk.Store() if self._table_store == "disk" else None
        self._previous_store = moto_disk.use(self.disk)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        if self.endpoint:  # moto's stop() fails on a server that never started
            self._server.stop()
        if self.disk is not None:
            moto_disk.use(self._previous_store)
            self.disk.close()
            self.disk = None


def process_environment(endpoint: str, extra: dict[str, str]) -> dict[str, str]:
    """What os.environ needs so that boto3 anywhere in the process talks to moto."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,  # the Lambda runtime sets this one; some code reads it
        **FAKE_CREDENTIALS,
        **extra,
    }
