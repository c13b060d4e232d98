# Pose-It! — `make run` (set up, pull models, start the live coaching web app) and `make test` (set up, pull, run the suite).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# The webcam when there is one; else the demo clip from ../shared when present; else 0 (a clear error).
DEMO    := $(wildcard ../shared/data/exercise-videos/Tayyab-Abdullah+PushUp-Counter/pushup2.mp4)
SOURCE  ?= $(if $(wildcard /dev/video0),0,$(if $(DEMO),$(DEMO),0))
OUT     ?= out
MODEL   ?= blazepose-full
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: run track test setup dev models peer lint format bench bench-serve clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# runtime install (numpy, OpenCV, OpenVINO) with the web app's `serve` extra (FastAPI, uvicorn)
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[serve]'
	touch $@

# everything the test suite needs (dev tools, ONNX Runtime, Playwright, the torch `train`, web `serve` and Ray
# Serve + PostgreSQL driver `cluster` extras)
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,train,serve,cluster]'
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime
dev: $(VENV)/.dev

models: $(VENV)/.runtime
	$(BIN)/poseit models pull

# the live coaching web app on this machine; pulls only the detector and MODEL (no npm needed for the full model)
run: setup
	$(BIN)/poseit models pull blazepose-detector $(filter blazepose-%,$(MODEL))
	@echo "Pose-It! live coach: open http://$(HOST):$(PORT)/ in a browser (Ctrl+C stops)"
	$(BIN)/poseit serve --host $(HOST) --port $(PORT) --model $(MODEL)

# the command-line job: track poses from SOURCE into out/ (annotated video, JSON Lines, CSV)
track: setup
	$(BIN)/poseit models pull blazepose-detector $(filter blazepose-%,$(MODEL))
	@echo "poseit run on $(SOURCE) (choose with make track SOURCE=video|image|folder|webcam index|URL)"
	$(BIN)/poseit run $(SOURCE) --model $(MODEL) --out-video $(OUT)/poses.mp4 --out-json $(OUT)/poses.jsonl --out-csv $(OUT)/poses.csv

test: dev models
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# MediaPipe's own pipeline, the peer we compare against, in its own environment (never in .venv)
peer: .venv-mediapipe/.ok
.venv-mediapipe/.ok:
	$(PY) -m venv .venv-mediapipe
	.venv-mediapipe/bin/pip install -q mediapipe==0.10.21
	touch $@

bench: setup models peer
	$(BIN)/python benchmarks/bench_pipeline.py

bench-serve: dev models
	$(BIN)/python benchmarks/bench_serve.py

clean:
	rm -rf $(VENV) .venv-mediapipe out .pytest_cache .ruff_cache
