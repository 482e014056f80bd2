# campuslake: `make demo` and `make test` set everything up from a bare Python 3.11+.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# the native splitter is compiled by the editable install: a change to its source installs again
NATIVE := hatch_build.py src/campuslake/ingest/csv_split.c
STAMP := $(VENV)/.synced-$(shell cat requirements.txt pyproject.toml $(NATIVE) | cksum | cut -d' ' -f1)
CL := $(VENV)/bin/campuslake
DEMO_DIR ?= demo

.PHONY: setup demo test bench lock clean

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The lock is a hashed requirements file (see docs/decisions.md); the project is installed editable on top.
$(STAMP): requirements.txt pyproject.toml $(NATIVE) | $(UV)
	test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(VENV)/bin/python --require-hashes requirements.txt
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	rm -f $(VENV)/.synced-* && touch $@

lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev --extra spark --generate-hashes --universal --python-version 3.11 -o requirements.txt

demo: setup
	rm -rf $(DEMO_DIR)
	$(CL) generate alumni --rows 20000 --files 4 --seed 7 --bad-rate 0.02 --dup-rate 0.05 --out $(DEMO_DIR)/incoming
	$(CL) --lake $(DEMO_DIR)/lake ingest alumni $(DEMO_DIR)/incoming/*.csv*
	$(CL) --lake $(DEMO_DIR)/lake run
	$(CL) --lake $(DEMO_DIR)/lake report alumni
	$(CL) --lake $(DEMO_DIR)/lake quarantine list
	@echo "lake: $(DEMO_DIR)/lake   quarantine: $(DEMO_DIR)/lake/quarantine   (try: $(CL) --lake $(DEMO_DIR)/lake query 'select * from alumni_current limit 5')"

test: setup
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile

bench: setup
	$(VENV)/bin/python bench/pipeline_bench.py --write BENCHMARKS.md --spark-big

clean:
	rm -rf $(VENV) $(TOOLS) demo .pytest_cache
