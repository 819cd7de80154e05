"""Imported once by the server process that local workers are forked from.

Importing it prepares the process (the pipeline imported, the dictionaries loaded and
frozen), so that every worker forked afterwards starts with them, instead of spending
seconds of its own on them; `flows.runners` names it as the server's only preload.
"""

from flows.runners import prepare_worker

prepare_worker()
