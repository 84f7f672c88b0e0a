# Everything a fresh machine needs comes from this file: a virtualenv with pinned Python
# packages and the pinned CDK CLI from package-lock.json (never the npm `latest` tag).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
# No credentials, no network lookups, no notices, no IMDS probing, quiet jsii.
export AWS_EC2_METADATA_DISABLED := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20,22
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
# The CLI's own AWS SDK warns on Node 20 (end of life) whenever credentials are configured.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
CDK_FLAGS := --no-notices --no-version-reporting --quiet
PYTEST_WORKERS ?= auto

.PHONY: synth test mutants setup clean bench diagram nag-docs config-docs
synth: setup ## set everything up and synthesize the default app into cdk.out/
	$(CDK) synth $(CDK_FLAGS) > /dev/null
	@echo "synthesized: $$(ls cdk.out/*.template.json | wc -l) templates in cdk.out/"

test: setup ## run the whole test suite
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

mutants: setup ## apply every curated safety mutation on a scratch copy; fail if any survives
	$(PY) -m tools.mutants.run

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml constructs/pyproject.toml lambdas/layer/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bench: setup ## print synth/suite/handler figures (never asserts)
	$(PY) bench/run_all.py

diagram: setup ## regenerate docs/topology.md from the default config
	$(PY) -m bluegreen.topology --write docs/topology.md

config-docs: setup ## regenerate docs/configuration.md from the config reader
	$(PY) -m bluegreen.config.reference --write docs/configuration.md

nag-docs: setup ## regenerate docs/nag-acknowledgments.md from the default app and the TLS example
	rm -rf .nag && $(CDK) synth $(CDK_FLAGS) -o .nag/default > /dev/null
	$(CDK) synth $(CDK_FLAGS) -c config=config/examples/tls.yaml -o .nag/tls > /dev/null
	$(PY) -m bluegreen.compliance_report .nag/default/validation-report.json .nag/tls/validation-report.json \
		--write docs/nag-acknowledgments.md

clean:
	rm -rf cdk.out .venv node_modules
