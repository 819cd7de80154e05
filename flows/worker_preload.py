"""Imported once by the server process that local workers are forked from.

Importing it prepares the process (the pipeline imported, the dictionaries loaded and
frozen), so that every worker forked afterwards starts with them, instead of spending
seconds of its own on them; `flows.runners` names it as the server's only preload.

A worker analyses on one core: there are as many workers as cores, so polars' own thread
pool in each worker only contends with the others (a run of the benchmark's corpus took
about 2% longer with it). Set before polars is first imported here; a value the user set
stays.
"""

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

from flows.runners import prepare_worker

prepare_worker()
