# appnet-agent — see README.md. `make run` and `make test` work on a fresh clone.
GO       ?= go
# The three binaries of the product, installed side by side (README, "The three binaries"): the
# entry point (the lean build, tag appnet_lean), the full agent it execs for user input, validate
# and golden (internal/dispatch), and the long-lived supervisor.
BIN      := bin/appnet-agent
FULL     := bin/appnet-agent-full
SUPERVISOR := bin/appnet-agent-supervisor
STANDIN  := bin/envoy-standin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CLI_PKG  := github.com/appnet/appnet-agent/internal/cli
LDFLAGS  := -s -w -buildid= -X $(CLI_PKG).version=$(VERSION) -X $(CLI_PKG).commit=$(COMMIT)
EXAMPLE  ?= examples/service-connect.env
# Static binaries, as released and as the image needs; the tests build the same way, so the
# build cache serves them all (only the race detector needs cgo).
export CGO_ENABLED := 0

GO_SRC    := $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum
AGENT_SRC := $(GO_SRC) $(shell find templates -name '*.tmpl')

.PHONY: build test run golden bench lint docs fuzz fuzz-lean image release clean

build: $(BIN) $(FULL) $(SUPERVISOR)

# The entry point: the lean build (docs/DESIGN.md), which execs $(FULL) next to it for user input,
# validate and golden (internal/dispatch).
$(BIN): $(AGENT_SRC)
	$(GO) build -tags appnet_lean -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# The full agent: every subcommand, the full validator (user templates, files and fragments).
$(FULL): $(AGENT_SRC)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(FULL) .

# The long-lived half of run, which the agent execs from its own directory (issue 19).
$(SUPERVISOR): $(GO_SRC)
	$(GO) build -trimpath -ldflags '-s -w -buildid=' -o $(SUPERVISOR) ./cmd/appnet-agent-supervisor

$(STANDIN): $(shell find internal/envoystandin -name '*.go')
	$(GO) build -trimpath -ldflags '-s -w -buildid=' -o $(STANDIN) ./internal/envoystandin

# The concurrent packages also run under the race detector (issues 3 and 4 require it).
RACE_PKGS := ./internal/supervise/ ./internal/api/ ./internal/logfile/ ./internal/envoyadmin/ ./internal/platform/ ./internal/tasklife/

test: lint
	$(GO) test -count=1 ./...
	$(GO) test -tags appnet_lean -count=1 ./internal/render/ # FuzzRender's corpus through the lean validator (docs/DESIGN.md)
	CGO_ENABLED=1 $(GO) test -race -count=1 $(RACE_PKGS)

# Linters, pinned and run through `go run`, so nothing is installed by hand (the module proxy
# serves them; the build cache keeps them after the first run).
GOIMPORTS   := golang.org/x/tools/cmd/goimports@v0.52.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOFILES      = $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(GO) run $(GOIMPORTS) -local github.com/appnet/appnet-agent -l $(GOFILES)); if [ -n "$$out" ]; then echo "goimports -local github.com/appnet/appnet-agent needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags appnet_lean ./... # the lean renderer's build (docs/DESIGN.md)
	$(GO) run $(STATICCHECK) ./...

golden:
	$(GO) test ./internal/conformance/ -run '^TestGolden$$' -update -count=1

# The README's variable table and docs/TEMPLATES.md's template data, from the Go types.
docs: build
	./scripts/update-readme-vars.sh
	$(GO) test ./internal/render/ -run '^TestTemplateDataDocIsCurrent$$' -update -count=1

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

# FuzzRender in the lean build (appnet-agent): a render of the built-in templates the lean validator refuses for
# an unknown type fails. Minimisation off: with it, most of a short run went to minimising, at 0 exec/s.
fuzz-lean:
	$(GO) test -tags appnet_lean ./internal/render/ -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0

run: build $(STANDIN)
	./scripts/run-example.sh $(EXAMPLE)

# The image the tests build and run here (e2e/image_test.go): from scratch, with umoci, no
# daemon; envoy-standin stands in for Envoy. The production image is the Dockerfile's.
image: $(BIN) $(FULL) $(SUPERVISOR) $(STANDIN)
	rm -rf bin/image
	./scripts/build-image.sh --out bin/image --tag $(VERSION) --agent $(BIN) --full $(FULL) --supervisor $(SUPERVISOR) \
		--envoy $(STANDIN) \
		--version $(VERSION) --commit $(COMMIT)

# make release VERSION=vX.Y.Z: dist/VERSION/ (binaries, images, SHA256SUMS), checked reproducible.
release:
	@[ "$(origin VERSION)" = "command line" ] || { echo "usage: make release VERSION=vX.Y.Z" >&2; exit 2; }
	./scripts/release.sh $(VERSION)

clean:
	rm -rf bin dist
