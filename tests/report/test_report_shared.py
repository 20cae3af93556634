"""The notebooks of a render batch share what they compute alike (crmlab.memo): checked by
what the notebooks see of the shared folder, and by the numbers they publish."""

from __future__ import annotations

import os

import nbformat

from crmlab import report

PARAMS = 'source = "groceries"  # data source'

LOAD = """
import os
from crmlab import data as crm_data, memo
from crmlab.report import publish_metrics
baskets = crm_data.load_source(source)
where = os.environ.get(memo.ENV, "")
log = open(os.path.join(where, "calls.log")).read() if where else ""
publish_metrics(folder=where, computed=log.count("computed source"), read=log.count("read source"),
                lines=len(baskets), baskets=int(baskets["order_id"].nunique()))
"""


def _notebook(folder, name):
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(LOAD)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["crmlab"] = {"dated": False}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return str(path)


def test_a_batch_reads_a_file_source_once_and_cleans_up(tmp_path):
    books = [_notebook(tmp_path, "first"), _notebook(tmp_path, "second")]
    batch = report.render_batch(books, output_root=tmp_path / "out", jobs=1, progress=False)
    first, second = (r.metrics for r in batch.results)
    assert batch.ok and first["folder"] and first["folder"] == second["folder"]
    assert (first["computed"], first["read"]) == (1, 0)
    assert (second["computed"], second["read"]) == (1, 1)  # the second notebook read the first's
    # Groceries (Hahsler et al. 2006): 9,835 baskets, 43,367 item lines, either way
    assert first["baskets"] == second["baskets"] == 9835 and first["lines"] == second["lines"] == 43367
    assert not os.path.exists(first["folder"])  # the folder goes with the batch
    alone = report.render_batch(books, output_root=tmp_path / "alone", jobs=1, progress=False,
                                share_results=False)
    assert [r.metrics["folder"] for r in alone.results] == ["", ""]
    assert [r.metrics["baskets"] for r in alone.results] == [9835, 9835]
    # notebooks on different sources have nothing to share: no folder, nothing stored
    apart = report.render_batch([(books[0], {}), (books[1], {"source": "cdnow"})], output_root=tmp_path / "apart",
                                jobs=1, progress=False)
    assert [r.metrics["folder"] for r in apart.results] == ["", ""]
    assert [r.metrics["lines"] for r in apart.results][0] == 43367
