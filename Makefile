# Every target builds its own virtual environment first, so a fresh clone needs only python3 and make.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test demo lint bench simulate clean

$(STAMP): pyproject.toml deploy/install.sh
	VENV=$(VENV) sh deploy/install.sh
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

# A full generation against the built-in simulator: no .env, no credentials.
demo: $(STAMP)
	env -u RUNNINGHUB_API_KEY RUNNINGHUB_BASE_URL=simulator $(PY) -m bot generate z-image \
		--prompt "a lighthouse on a cliff at dusk, oil painting" --out outputs

simulate: $(STAMP)
	$(PY) -m bot simulate

bench: $(STAMP)
	for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) outputs .pytest_cache
