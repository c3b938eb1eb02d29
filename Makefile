# The README's commands. `make test` is what CI runs (through .ci/run).
GO ?= go
TEMPL_VERSION := v0.3.1100

.PHONY: run test test-reliability check generate build fuzz

run:
	$(GO) run ./cmd/inlet

# Every test on both stores. PostgreSQL with the race detector; then the
# embedded SQLite, where the race detector would instrument SQLite's own
# transpiled C (a tenfold slowdown for no race of ours), so that pass runs
# plain, except the write path (ingest: SQLite's single writer) with -race.
# Needs PostgreSQL (TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres); without it those tests skip
# and say so, except under CI=true where they fail. INLET_TEST_STORE picks
# the pass: a test tied to one store, and each half of testdb.Each, runs
# once, in its own store's pass (unset: everything runs).
test:
	INLET_TEST_STORE=postgres $(GO) test -race -count=1 -timeout 15m ./...
	INLET_TEST_STORE=sqlite $(GO) test -count=1 -timeout 15m ./...
	INLET_TEST_STORE=sqlite $(GO) test -race -count=1 -timeout 5m ./internal/ingest/...

# The long fault tests (kill -9, database outage, overload, shutdown).
test-reliability:
	INLET_RELIABILITY=1 $(GO) test -race -count=1 -timeout 20m ./test/reliability/...

# Formatting (Go and templ), vet and generated code that matches its source.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) fmt templates
	@git diff --exit-code -- 'templates/*.templ' || { echo "templ fmt changed templates/*.templ: commit the formatted files"; exit 1; }
	$(GO) run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) generate
	@git diff --exit-code -- templates || { echo "templ generate changed templates/*_templ.go: commit the regenerated files"; exit 1; }

generate:
	$(GO) run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) generate

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/inlet ./cmd/inlet

fuzz:
	$(GO) test ./internal/segment -run '^$$' -fuzz FuzzParseVerify -fuzztime 60s
