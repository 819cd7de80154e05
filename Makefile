# The few commands a newcomer needs. Everything installs into the project from its own
# files: uv comes from PyPI into .tools/, the dependencies from uv.lock into .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Byte-compiled at install: every run (and each worker process) then imports Prefect,
# polars and pandera from .pyc files instead of compiling them again.
export UV_COMPILE_BYTECODE := 1
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install run server serve config test check lint format clean eval eval-pages eval-dedupe bench bench-queries docs notebook notebook-clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked
	.venv/bin/python -m compileall -q flows transforms schemas benchmarks
	.venv/bin/python -m flows.kernels
	touch $@

install: .venv/.synced  ## install the locked dependencies and the zhnews command

run: install  ## curate the bundled sample (data/raw) into data/curated
	$(UV) run --locked zhnews run --raw data/raw --curated data/curated

server: install  ## a Prefect server on 127.0.0.1:4200, its database under .prefect/
	$(UV) run --locked zhnews server

serve: install  ## register and serve the nightly and backfill deployments (needs `make server`)
	$(UV) run --locked zhnews serve

config: install  ## print the effective settings and where each comes from
	$(UV) run --locked zhnews config

docs: install  ## write docs/DATASETS.md, the data dictionary, from the pandera models
	$(UV) run --locked python -m flows.datasets_doc

notebook: install  ## run notebooks/explore.ipynb on data/curated ($$ZHNEWS_CURATED) into notebooks/explore-executed.ipynb
	$(UV) run --locked jupyter execute notebooks/explore.ipynb --output=explore-executed

notebook-clean: install  ## drop outputs from notebooks/explore.ipynb before committing it
	$(UV) run --locked python -c "import nbformat as nbf; p = 'notebooks/explore.ipynb'; \
	nb = nbf.read(p, as_version=4); \
	[(c.update(outputs=[], execution_count=None), c.metadata.pop('execution', None)) \
	 for c in nb.cells if c.cell_type == 'code']; \
	nbf.write(nb, p)"

lint: install  ## ruff and mypy on the code
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

test: lint  ## lint, type-check and run the whole test suite
	$(UV) run --locked pytest

eval: install  ## segmentation and entity F1 on the gold corpora of ../shared/corpus, beside plain jieba
	$(UV) run --locked python -m benchmarks.nlp_eval --json benchmarks/results/nlp.json

eval-pages: install  ## measure the page rebuild on 200 synthetic pages from ../shared/corpus
	$(UV) run --locked python -m benchmarks.page_eval --pages 200 --seed 1 --json benchmarks/results/pages.json
	$(UV) run --locked python -m benchmarks.page_eval --pages 200 --seed 2 --json benchmarks/results/pages-seed2.json > /dev/null
	$(UV) run --locked python -m benchmarks.page_eval --pages 200 --seed 3 --json benchmarks/results/pages-seed3.json > /dev/null
	$(UV) run --locked python -m benchmarks.page_eval --pages 200 --seed 4 --json benchmarks/results/pages-seed4.json > /dev/null
	$(UV) run --locked python -m benchmarks.page_eval --pages 200 --seed 5 --json benchmarks/results/pages-seed5.json > /dev/null

eval-dedupe: install  ## near-duplicate precision and recall on the Sogou samples of ../shared/corpus
	$(UV) run --locked python -m benchmarks.dedupe_eval --json benchmarks/results/dedupe.json

bench: install  ## throughput, start-up, peak RSS and stage times of `zhnews run` beside plain jieba (slow)
	$(UV) run --locked python -m benchmarks.throughput --json benchmarks/results/bench.json

bench-queries: install  ## typical reader queries on a generated year, reader layout beside the previous one
	$(UV) run --locked python -m benchmarks.queries --json benchmarks/results/queries.json

format: install
	$(UV) run --locked ruff format .
	$(UV) run --locked ruff check --fix .

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
	find data/curated -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
