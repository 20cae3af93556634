"""A notebook on a real Spark standalone cluster (slow: make test-all).

The installed PySpark starts a master and one worker (one core, 1 GiB) on the loopback
interface; ``crmlab render 01-customer-analysis`` then runs with ``SPARK_MASTER`` pointing at
that master and nothing else changed. The test checks what a user relies on: the report
publishes the same numbers as the pandas render, and the work ran on the cluster (the master
lists the finished ``crmlab`` application and the worker's executor ran its tasks).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from spark_session import SPARK, pyspark

from crmlab import data

from test_spark_notebooks import SAMPLE, _assert_same_numbers, _rendered_metrics  # isort: skip

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(webui: int) -> dict:
    """The master's JSON status page (workers, running and completed applications)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=5) as page:
        return json.load(page)


def _wait_for(what: str, check, logs: list[Path], timeout: float = 180.0):
    """Poll ``check()`` until it returns something true; fail with the daemons' log tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except OSError:  # the web UI is not up yet
            found = None
        if found:
            return found
        time.sleep(1)
    tails = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                      for log in logs if log.exists())
    pytest.fail(f"Spark standalone cluster: {what} not seen within {timeout:.0f} s\n{tails}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop a daemon and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    """A standalone master and one worker from the installed PySpark; yields the master URL,
    its web UI port and the worker's work folder."""
    folder = tmp_path_factory.mktemp("spark_cluster")
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port, webui, worker_ui = _free_port(), _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    work = folder / "work"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("SPARK_HOME", None)  # spark-class finds the installed PySpark's own home
    commands = {
        "master": ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                   "--webui-port", str(webui)],
        "worker": ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "1",
                   "--memory", "1g", "--webui-port", str(worker_ui), "--work-dir", str(work)],
    }
    logs = [folder / f"{name}.log" for name in commands]
    for name, args in commands.items():
        with open(folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen([str(spark_class), *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)  # own process group, killed as a whole
        request.addfinalizer(lambda proc=proc: _stop(proc))
        if name == "master":
            _wait_for("the master", lambda: _status(webui).get("status") == "ALIVE", logs)
    _wait_for("the worker registered", lambda: _status(webui)["aliveworkers"] == 1, logs)
    return {"url": url, "webui": webui, "work": work, "logs": logs}


@pytest.fixture(scope="module")
def parquet_source(tmp_path_factory):
    """The sample as Parquet with microsecond timestamps (Spark reads no nanosecond ones) and
    a source file with ``engine: spark`` beside it."""
    folder = tmp_path_factory.mktemp("cluster_source")
    doc = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    raw = data.read_table(SAMPLE.parent / doc["path"])
    raw.to_parquet(folder / "orders.parquet", index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    doc.update(path="orders.parquet", engine="spark")
    (folder / "lake.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder / "lake.yml"


def test_customer_analysis_renders_on_a_standalone_cluster(cluster, parquet_source, tmp_path, monkeypatch):
    want = _rendered_metrics("01-customer-analysis", SAMPLE, tmp_path / "pandas", "pandas")
    assert not _status(cluster["webui"])["completedapps"]

    # what a user sets: the master; the executors' Python is this one (same version as the kernel's)
    monkeypatch.setenv("SPARK_MASTER", cluster["url"])
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # the driver listens on the loopback, like the cluster
    # a one-core cluster: fewer shuffle partitions than the default 200, through spark-submit's arguments
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--conf spark.sql.shuffle.partitions=4 pyspark-shell")
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    got = _rendered_metrics("01-customer-analysis", parquet_source, tmp_path / "spark", "spark")
    _assert_same_numbers(got, want)
    assert got["rows"] > 10_000 and got["customers"] > 200

    # the kernel has exited: the master lists the finished application, the worker ran its executor
    apps = _wait_for("the finished application", lambda: _status(cluster["webui"])["completedapps"],
                     cluster["logs"])
    assert [(app["name"], app["state"], app["cores"]) for app in apps] == [("crmlab", "FINISHED", 1)]
    executor_log = cluster["work"] / apps[0]["id"] / "0" / "stderr"
    assert executor_log.exists(), sorted(p.name for p in cluster["work"].iterdir())
    finished = executor_log.read_text(errors="replace").count("Finished task")
    assert finished > 10, executor_log.read_text(errors="replace")[-3000:]
