# Two commands set everything up on a fresh machine:
#   make demo   - installs what it needs, runs the demo benchmark (local executor)
#   make test   - installs what it needs, runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
# The CPU build; on CI it comes from the local wheel folder named by PIP_FIND_LINKS.
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test bench docker images lock-images test-gpu-images bench-docker slurm clean

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
	./scripts/install-system-deps.sh --tests
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/runner_overhead.py
	$(PY) benchmarks/cli_startup.py
	$(PY) benchmarks/batch_throughput.py
	$(PY) benchmarks/scoring_speed.py
	$(PY) benchmarks/scoring_memory.py
	$(PY) benchmarks/noop_rerun.py

# A local Docker Engine, the base image made without a registry, and the CPU image.
docker: install
	bash scripts/docker-engine.sh
	bash scripts/make-base-image.sh
	$(PY) -m vlmbench build-images cpu

# The whole image matrix (cpu, vllm-cpu, transformers-gpu, vllm), each from its lock file in
# images/, recorded in image-builds.json in the data home. The GPU images download several GB
# of CUDA wheels from PyPI (see the README for the time and disk they take).
images: docker
	$(PY) -m vlmbench build-images

# Rewrites images/*.lock after a change to vlmbench/docker/locks.py or pyproject's dependencies.
lock-images: install
	$(PY) -m pip install --quiet uv
	$(PY) scripts/lock-images.py

# Builds the GPU images and checks that they hold their CPU twins' versions (not part of `make test`).
test-gpu-images: docker
	VLMBENCH_TEST_GPU_IMAGES=1 $(PY) -m pytest -m gpu_images

# A one-node Slurm cluster on this machine (munged, slurmctld, slurmd) for --executor slurm.
slurm: install
	bash scripts/slurm-cluster.sh

bench-docker: docker
	$(PY) benchmarks/docker_overhead.py

clean:
	rm -rf $(VENV) runs build *.egg-info
