# tlsmap — build, test, fuzz, benchmark.
GO        ?= go
BIN       ?= bin/tlsmap
FUZZTIME  ?= 30s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: all build cross demo test test-short test-race fuzz bench bench-scan bench-sniff bench-sniff-quic bench-live bench-sweep bench-mail lint generate clean bench-logs bench-store bench-report bench-protocols

all: lint test build

## build: a static binary in bin/tlsmap (no cgo)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tlsmap

## cross: build tlsmap and vet every package for macOS and Windows (no cgo)
CROSS ?= darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
cross:
	@set -e; for p in $(CROSS); do \
	  echo "== $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -trimpath -o /dev/null ./cmd/tlsmap; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet ./...; \
	done

## demo: the main job on built-in servers and clients on 127.0.0.1 (no outside
## servers; live capture on lo as root, else the capture shipped in the binary)
demo:
	$(GO) run ./cmd/tlsmap demo

## test: every test; real servers (openssl s_server, …) are started by the tests themselves
test:
	$(GO) test -count=1 -timeout 30m ./...

## test-short: the tests that need no external program
test-short:
	$(GO) test -count=1 -short ./...

## test-race: the short tests under the race detector
test-race:
	$(GO) test -count=1 -race -short ./...

## fuzz: every fuzz target for FUZZTIME each (default 30s)
# Go 1.26's fuzzing coordinator can fail a target with "context deadline
# exceeded" as -fuzztime runs out, with no failing input
# (go.dev/issue/75804, fixed in Go 1.27): such a run is a warning. A
# target fails when go test fails any other way, or writes a failing
# input into the package's testdata/fuzz/TARGET.
fuzz:
	@set -e; out=$$(mktemp); trap 'rm -f "$$out" "$$out.rc"' EXIT; \
	for pkg in $$($(GO) list ./...); do \
	  corpus=$$($(GO) list -f '{{.Dir}}' $$pkg)/testdata/fuzz; \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    before=$$(ls "$$corpus/$$f" 2>/dev/null | wc -l); \
	    rm -f "$$out.rc"; \
	    { rc=0; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1s $$pkg 2>&1 || rc=$$?; echo $$rc >"$$out.rc"; } | tee "$$out"; \
	    [ "$$(cat "$$out.rc")" = 0 ] && continue; \
	    if [ "$$(ls "$$corpus/$$f" 2>/dev/null | wc -l)" = "$$before" ] && grep -q '^    context deadline exceeded$$' "$$out" && \
	      ! grep -q -e 'Failing input written' -e '^panic: ' "$$out"; then \
	      echo "warning: $$f: 'context deadline exceeded' as -fuzztime ran out, no failing input: Go's fuzzing coordinator (go.dev/issue/75804), not a failure"; \
	    else \
	      echo "error: $$f failed"; exit 1; \
	    fi; \
	  done; \
	done

## bench: Go benchmarks (and, as later issues add them, peer-tool comparisons)
bench: bench-scan bench-sniff bench-sniff-quic bench-sweep bench-mail bench-logs
	$(GO) test -run='^$$' -bench=. -benchmem ./...

## bench-scan: tlsmap scan vs sslscan vs testssl.sh -E on local openssl/nginx endpoints
bench-scan:
	GO=$(GO) BIN=$(BIN) sh bench/scan-compare.sh

## bench-sniff: tlsmap sniff vs tshark on a ~450 MB capture made on the spot in a network namespace (root, tshark)
bench-sniff:
	GO=$(GO) bash bench/sniff-compare.sh

## bench-sniff-quic: the same on a QUIC capture (quic-go handshakes and bulk; builds sniff/testdata/quicpeer)
bench-sniff-quic:
	QUIC=1 GO=$(GO) bash bench/sniff-compare.sh

## bench-live: tlsmap sniff -i vs tcpdump and tshark -w /dev/null on a veth pair in a namespace, tcpreplay at 500, 1000, 2000 Mbit/s and top speed: kernel drops, ClientHellos found (root, tcpreplay, tshark)
bench-live:
	GO=$(GO) bash bench/live.sh

## bench-logs: tlsmap logs on a 1 GB generated log (SIZE, KIND=nginx|maillog): lines/s, MB/s, peak RSS, against grep -c
bench-logs:
	GO=$(GO) bash bench/logs-bench.sh

## bench-store: what sniff --store (SQLite, PostgreSQL, --store-flows) costs over sniff on the ~700 MB capture of bench-sniff (root, postgresql)
bench-store:
	GO=$(GO) bash bench/store-compare.sh

## bench-report: tlsmap report's work over a store of 10 million aggregated rows, SQLite and PostgreSQL (the SQLite store is kept in $$TMPDIR)
bench-report:
	TLSMAP_BENCH_ROWS=10000000 $(GO) test -run='^$$' -bench=Report -benchtime=5x -timeout=3h ./readiness

## bench-sweep: version-only sweeps of 4,096 nginx endpoints (the README's command, tuned, old defaults, zgrab2, tlsx) and a refused /16, in a network namespace (root): endpoints/s, peak RSS
bench-sweep:
	GO=$(GO) BIN=$(BIN) bash bench/sweep.sh

## bench-protocols: tlsmap scan vs sslscan --starttls-* vs testssl.sh -t … on every internal/protoserver server, in a namespace with only loopback (root)
bench-protocols:
	GO=$(GO) bash bench/protocols-compare.sh

## bench-mail: tlsmap scan vs sslscan vs testssl.sh -E on local postfix and dovecot (STARTTLS and implicit TLS; dovecot in its default and high-performance login modes): wall times, and connections against the fewest a whole map takes, in a namespace with only loopback (root, tcpdump)
bench-mail:
	GO=$(GO) BIN=$(BIN) sh bench/mail-compare.sh

## lint: gofmt, go vet, staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

STATICCHECK_VERSION ?= v0.8.2

## generate: regenerate the registry tables from the IANA CSVs
generate:
	$(GO) generate ./...

clean:
	rm -rf bin
