# One-command set-up: `make run` opens the app, `make test` runs the whole suite.
# Both create .venv from nothing when it is missing or older than the project's dependency files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.twintrain-installed
# cpu or gpu, from what the machine has (override: make test EXTRA=cpu).
EXTRA ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
CONSTRAINTS := packaging/constraints.txt

.PHONY: run test lint types check test-headless setup clean bench package test-package \
	install-desktop uninstall-desktop

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -q --upgrade pip
	$(PY) -m pip install --progress-bar off -q -c $(CONSTRAINTS) -e ".[$(EXTRA),dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/twintrain $(ARGS)

# Style, formatting and the import contracts (engine Qt-free, gui framework-free).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Static types, as configured in pyproject.toml's [tool.mypy].
types: $(STAMP)
	$(VENV)/bin/mypy

# The inner loop, under a minute: lint, types and the engine tests that need neither Qt nor a
# framework worker. The run fails if one of them imports torch, TensorFlow, Keras or Qt
# (TWINTRAIN_FRAMEWORK_FREE, tests/conftest.py); tests marked slow or qt are left out.
CHECK_TESTS := $(addprefix tests/engine/test_,$(addsuffix .py,backend_weights bad_input \
	contributing data_files export_formats headless_venv presets project_docs run_listing \
	run_options runtimes_registry shapes spec_fuzz summary_notes))
check: lint types
	TWINTRAIN_FRAMEWORK_FREE=1 $(PY) -m pytest -q -p no:cacheprovider -p no:pytest-qt \
		-W "ignore:Unknown config option:pytest.PytestConfigWarning" -m "not slow and not qt" \
		$(CHECK_TESTS) $(PYTEST_ARGS)

test: lint types
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n 2 --dist loadscope --no-loadscope-reorder --durations=10 $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ---- the engine on a server with no Qt ------------------------------------------------------
# .venv-headless is .venv without PySide6, shiboken6, pyqtgraph and pytest-qt: a hard-linked copy
# (seconds, no extra disk) from which pip uninstalls them (tests/headless_venv.py).
HEADLESS := .venv-headless
HEADLESS_PY := $(HEADLESS)/bin/python
HEADLESS_STAMP := $(HEADLESS)/.twintrain-headless

$(HEADLESS_STAMP): $(STAMP) tests/headless_venv.py
	$(PY) tests/headless_venv.py $(VENV) $(HEADLESS)
	@touch $(HEADLESS_STAMP)

# tests/engine in .venv-headless: the engine and the CLI work without Qt (test_headless.py checks
# that PySide6 is absent; tests marked `qt` skip). Without pytest-qt, its ini options are unknown.
test-headless: $(HEADLESS_STAMP)
	TWINTRAIN_HEADLESS=1 $(HEADLESS_PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadscope --no-loadscope-reorder \
		-W "ignore:Unknown config option:pytest.PytestConfigWarning" tests/engine $(PYTEST_ARGS)

# ---- the packaged app (packaging/README.md) ----------------------------------------------------
PACKAGING_REQS := packaging/requirements.txt
PACKAGING_STAMP := $(VENV)/.twintrain-packaging
BUNDLE := dist/twintrain
XDG_DATA_HOME ?= $(HOME)/.local/share

$(PACKAGING_STAMP): $(STAMP) $(PACKAGING_REQS)
	$(PY) -m pip install --progress-bar off -q -c $(CONSTRAINTS) -r $(PACKAGING_REQS)
	@touch $(PACKAGING_STAMP)

# One-folder bundle in dist/twintrain/ (about 4 minutes on 2 cores); prints size and build time.
package: $(PACKAGING_STAMP)
	$(PY) packaging/build.py

# Build, then run the frozen app's self-test (both frameworks train and export through real workers).
test-package: package
	@data=$$(mktemp -d) && \
	QT_QPA_PLATFORM=offscreen TWINTRAIN_DATA_DIR=$$data $(BUNDLE)/twintrain --self-test; \
	rc=$$?; rm -rf $$data; exit $$rc

# Menu entry and icon for this user (no root). Launches the bundle if it is built, else the venv's twintrain.
install-desktop:
	@exe="$(abspath $(BUNDLE))/twintrain"; \
	if [ ! -x "$$exe" ]; then exe="$(abspath $(VENV))/bin/twintrain"; fi; \
	if [ ! -x "$$exe" ]; then echo "install-desktop: run 'make package' (or 'make setup') first" >&2; exit 1; fi; \
	mkdir -p "$(XDG_DATA_HOME)/applications" "$(XDG_DATA_HOME)/icons/hicolor/scalable/apps" "$(XDG_DATA_HOME)/mime/packages"; \
	sed -e "s|^Exec=twintrain|Exec=\"$$exe\"|" -e "s|^TryExec=twintrain|TryExec=$$exe|" packaging/twintrain.desktop \
		> "$(XDG_DATA_HOME)/applications/twintrain.desktop"; \
	install -m 644 assets/twintrain.svg "$(XDG_DATA_HOME)/icons/hicolor/scalable/apps/twintrain.svg"; \
	install -m 644 packaging/twintrain-mime.xml "$(XDG_DATA_HOME)/mime/packages/twintrain.xml"; \
	command -v update-mime-database >/dev/null && update-mime-database "$(XDG_DATA_HOME)/mime" || true; \
	command -v update-desktop-database >/dev/null && update-desktop-database "$(XDG_DATA_HOME)/applications" || true; \
	touch "$(XDG_DATA_HOME)/icons/hicolor"; \
	echo "installed $(XDG_DATA_HOME)/applications/twintrain.desktop (Exec $$exe) and its icon"

uninstall-desktop:
	rm -f "$(XDG_DATA_HOME)/applications/twintrain.desktop" "$(XDG_DATA_HOME)/icons/hicolor/scalable/apps/twintrain.svg" \
		"$(XDG_DATA_HOME)/mime/packages/twintrain.xml"
	-command -v update-mime-database >/dev/null && update-mime-database "$(XDG_DATA_HOME)/mime"
	-command -v update-desktop-database >/dev/null && update-desktop-database "$(XDG_DATA_HOME)/applications"

clean:
	rm -rf $(VENV) $(HEADLESS) build dist *.egg-info .pytest_cache .ruff_cache
