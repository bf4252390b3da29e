# Two commands set everything up on a fresh machine:
#   make demo   - installs what it needs, runs the demo benchmark (local executor)
#   make test   - installs what it needs, runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
# The CPU build; on CI it comes from the local wheel folder named by PIP_FIND_LINKS.
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test bench docker bench-docker slurm clean

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet '$(TORCH_SPEC)'
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m vlmbench run configs/demo.csv --out runs/demo --jobs 2

test: install
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/runner_overhead.py
	$(PY) benchmarks/batch_throughput.py
	$(PY) benchmarks/scoring_speed.py
	$(PY) benchmarks/noop_rerun.py

# A local Docker Engine, the base image made without a registry, and the CPU image.
docker: install
	bash scripts/docker-engine.sh
	bash scripts/make-base-image.sh
	$(PY) -m vlmbench build-images cpu

# A one-node Slurm cluster on this machine (munged, slurmctld, slurmd) for --executor slurm.
slurm: install
	bash scripts/slurm-cluster.sh

bench-docker: docker
	$(PY) benchmarks/docker_overhead.py

clean:
	rm -rf $(VENV) runs build *.egg-info
