# Two commands matter: `make demo` and `make test`. Both install what is missing first and
# do nothing more when it is all there.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := xvfb xauth pulseaudio pulseaudio-utils libzbar0 libportaudio2 chromium \
	iproute2 libgl1 libgl1-mesa-dri libegl1 libmtdev1 espeak-ng sox debootstrap systemd \
	fonts-dejavu-core libatomic1 xdotool prometheus qemu-user-static binfmt-support strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS ?= 2

.PHONY: demo test test-fast test-slow lint typecheck deps venv clean update-reference-screens

demo: deps venv
	$(BIN)/kiosk demo

test: deps venv lint typecheck
	$(BIN)/pytest -n $(JOBS) -m "not slow and not realtime" -p no:cacheprovider
	$(BIN)/pytest -m "realtime and not slow" -p no:cacheprovider

# pytest exits 5 when no test is marked slow; that is not a failure here. One at a time (no -n):
# the fresh-root test runs the realtime tests inside its root and must have the cores to
# itself; -s puts each test's timings and the arm64 root's `uname -m` in the log.
test-slow: deps venv
	$(BIN)/pytest -m slow -p no:cacheprovider -s -v --durations=0 || [ $$? = 5 ]

# After a reviewed change to how screens look: write new reference pictures for
# tests/ui/test_reference_screens.py, look at them (git diff shows which changed), commit.
update-reference-screens: deps venv
	KIOSK_UPDATE_REFERENCES=1 $(BIN)/pytest -p no:cacheprovider tests/ui/test_reference_screens.py

lint: venv
	$(BIN)/ruff check kiosk scenes tests bench
	$(BIN)/ruff format --check kiosk scenes tests bench

typecheck: venv
	$(BIN)/mypy

# Debian packages: only on a Debian-like system, only the ones that are missing.
deps: $(VENV)/.apt-done

$(VENV)/.apt-done: Makefile
	@mkdir -p $(VENV)
	@if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(APT_PACKAGES); do \
			dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; \
		done); \
		if [ -n "$$missing" ]; then \
			echo "Installing Debian packages:" $$missing; \
			$(SUDO) apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
		fi; \
	else \
		echo "Not a Debian-like system: install these yourself: $(APT_PACKAGES)"; \
	fi
	@touch $@

venv: $(VENV)/.pip-done

$(VENV)/.pip-done: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) build *.egg-info
