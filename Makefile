# appnet-agent — see README.md. `make run` and `make test` work on a fresh clone.
GO       ?= go
BIN      := bin/appnet-agent
STANDIN  := bin/envoy-standin
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/appnet/appnet-agent/internal/cli.version=$(VERSION)
EXAMPLE  ?= examples/appmesh.env

.PHONY: build test run golden bench lint docs fuzz clean

build: $(BIN)

$(BIN): $(shell find . -name '*.go' -not -path './bin/*') $(shell find templates -name '*.tmpl') go.mod go.sum
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

$(STANDIN): $(shell find internal/envoystandin -name '*.go')
	$(GO) build -o $(STANDIN) ./internal/envoystandin

# The concurrent packages also run under the race detector (issues 3 and 4 require it).
RACE_PKGS := ./internal/supervise/ ./internal/api/ ./internal/logfile/ ./internal/envoyadmin/ ./internal/platform/

test: lint
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 $(RACE_PKGS)

# Linters, pinned and run through `go run`, so nothing is installed by hand (the module proxy
# serves them; the build cache keeps them after the first run).
GOIMPORTS   := golang.org/x/tools/cmd/goimports@v0.52.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOFILES      = $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(GO) run $(GOIMPORTS) -local github.com/appnet/appnet-agent -l $(GOFILES)); if [ -n "$$out" ]; then echo "goimports -local github.com/appnet/appnet-agent needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

golden:
	$(GO) test ./internal/conformance/ -run '^TestGolden$$' -update -count=1

docs: build
	./scripts/update-readme-vars.sh

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	./scripts/bench-process.sh
	./scripts/bench-agent.sh

# Each fuzz target in turn, FUZZTIME each. A failing input is written under the package's
# testdata/fuzz/ and stays there as a regression case that every `make test` replays.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./internal/render/:FuzzRender ./internal/validate/:FuzzDecode ./internal/validate/:FuzzCanonicalYAML \
	./internal/env/:FuzzLoad ./internal/promtext/:FuzzFastPathMatchesExpfmt ./internal/promtext/:FuzzDeltaMatchesComputeDelta

fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) || exit 1; done

run: build $(STANDIN)
	./scripts/run-example.sh $(EXAMPLE)

clean:
	rm -rf bin
