# One-command set-up: `make run` opens the app, `make test` runs the whole suite.
# Both create .venv from nothing when it is missing or older than the project's dependency files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.twintrain-installed
# cpu or gpu, from what the machine has (override: make test EXTRA=cpu).
EXTRA ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
CONSTRAINTS := packaging/constraints.txt

.PHONY: run test lint setup clean bench package test-package install-desktop uninstall-desktop

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -q --upgrade pip
	$(PY) -m pip install --progress-bar off -q -c $(CONSTRAINTS) -e ".[$(EXTRA),dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/twintrain $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

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
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
