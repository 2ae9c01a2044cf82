package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
)

// promContentType is the Prometheus text format's media type, which scrapers negotiate on.
const promContentType = "text/plain; version=0.0.4; charset=utf-8"

// statsSourceHeader tells a client whether a delta request got the snapshot delta or, when
// there is none yet (or snapshots are off), live cumulative values — which the reference
// agent's clients cannot tell apart (B24).
const statsSourceHeader = "X-Appnet-Stats-Source"

// statsHandler serves GET /stats/prometheus (runtime-reference §5.4, H5).
type statsHandler struct {
	admin     *envoyadmin.Client // per-attempt timeout and attempts for stats dumps
	snaps     *Snapshotter       // nil unless ENABLE_STATS_SNAPSHOT
	log       hclog.Logger
	filtering chan struct{} // maxFiltering slots
	// agentMetrics, when set (APPNET_AGENT_METRICS_IN_STATS), renders the agent's own
	// families, appended to the unfiltered output (never to filter or delta answers).
	agentMetrics func() ([]byte, error)
}

func newStatsHandler(admin *envoyadmin.Client, snaps *Snapshotter, log hclog.Logger) *statsHandler {
	return &statsHandler{admin: admin, snaps: snaps, log: log, filtering: make(chan struct{}, maxFiltering)}
}

var statsQueryKeys = map[string]bool{"usedonly": true, "filter": true, "delta": true}

func (h *statsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		textError(w, http.StatusBadRequest, fmt.Sprintf("invalid method [%s] in request", r.Method))
		return
	}
	if r.ContentLength != 0 { // > 0, or -1 for a chunked body
		textError(w, http.StatusBadRequest, fmt.Sprintf("unexpected content in request. Body size [%d]", r.ContentLength))
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		textError(w, http.StatusBadRequest, "unable to parse queries in URL: "+err.Error())
		return
	}
	// The reference reports a random bad key; the first one is stabler.
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !statsQueryKeys[k] {
			textError(w, http.StatusBadRequest, "unsupported query parameter: "+k)
			return
		}
	}
	if v, ok := q["filter"]; ok && v[0] != "metrics_extension" {
		textError(w, http.StatusBadRequest, fmt.Sprintf(
			"unsupported query value for parameter filter: %s, usage: /stats/prometheus?filter=metrics_extension", v[0]))
		return
	}
	_, usedOnly := q["usedonly"]
	_, filter := q["filter"]
	_, delta := q["delta"]
	if delta && !(usedOnly && filter) {
		textError(w, http.StatusBadRequest, "when delta is enabled, both usedonly and filter query parameters are required")
		return
	}
	if delta && h.snaps != nil {
		if chunks, ok := h.snaps.Delta(); ok {
			w.Header().Set(statsSourceHeader, "delta")
			writeMetrics(w, chunks...)
			return
		}
	}
	if !filter {
		h.passThrough(w, r, usedOnly)
		return
	}
	// A filtered scrape holds about Envoy's body in memory while it runs: few at a time.
	select {
	case h.filtering <- struct{}{}:
		defer func() { <-h.filtering }()
	default:
		tooMany(w)
		return
	}
	ft, err := fetchFiltered(r.Context(), h.admin, usedOnly)
	if err != nil {
		read := ft.Size() // a refused body may have cost up to the cap
		ft = nil
		h.fail(w, err)
		releaseAfter(read)
		return
	}
	fams, err := ft.Sorted()
	if err != nil {
		read := ft.Size()
		ft = nil
		h.fail(w, &parseError{err})
		releaseAfter(read)
		return
	}
	if delta {
		w.Header().Set(statsSourceHeader, "live")
	}
	n := ft.Size()
	writeMetrics(w, promtext.Texts(fams)...)
	ft, fams = nil, nil
	releaseAfter(n)
}

// maxFiltering is how many filtered scrapes may run at once (each holds about Envoy's
// filtered body); more answer 429 at once. Unfiltered scrapes stream and are not counted.
const maxFiltering = 2

// passThrough streams Envoy's body unchanged (H5). The status is committed only once the
// first prefetchBytes have arrived (or the whole body, if shorter), so an Envoy that fails or
// stalls before that gets the client a 500, never an empty reply. After that, a failure can
// only be signalled by breaking the connection: with Envoy's Content-Length forwarded, or by
// aborting a chunked reply, a client never mistakes a cut body for a whole one.
func (h *statsHandler) passThrough(w http.ResponseWriter, r *http.Request, usedOnly bool) {
	s, err := h.admin.PrometheusStats(r.Context(), false, usedOnly)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer s.Close()
	head, err := prefetch(s, prefetchBytes, prefetchWait)
	if err != nil {
		h.fail(w, err)
		return
	}
	var agent []byte // the agent's families, each after an empty line, so they start on a line of their own
	if h.agentMetrics != nil {
		if agent, err = h.agentMetrics(); err != nil {
			textError(w, http.StatusInternalServerError, "cannot render the agent's metrics: "+err.Error())
			return
		}
	}
	hdr := w.Header()
	hdr.Set("Content-Type", promContentType)
	if s.ContentLength >= 0 {
		hdr.Set("Content-Length", strconv.FormatInt(s.ContentLength+int64(len(agent)), 10))
	}
	w.WriteHeader(http.StatusOK)
	out := &progressWriter{w: w, rc: http.NewResponseController(w)}
	n, err := out.Write(head)
	if err == nil {
		var m int64
		m, err = io.CopyBuffer(out, s, make([]byte, 32<<10))
		n += int(m)
	}
	if err == nil && s.ContentLength >= 0 && int64(n) != s.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && len(agent) > 0 {
		_, err = out.Write(agent)
	}
	if err != nil {
		h.log.Warn("Streaming Envoy's stats failed; closing the connection", "after_bytes", n, "error", err)
		// net/http's documented way to end a reply without completing it.
		panic(http.ErrAbortHandler)
	}
}

// What passThrough reads before it commits to a 200: more than net/http buffers (4 KiB), so
// nothing has reached the client before it decides. prefetchWait bounds how long a dripping
// Envoy can delay the decision; whatever arrived by then is sent.
const (
	prefetchBytes = 32 << 10
	prefetchWait  = statsTimeout
)

// prefetch reads up to n bytes of r, until EOF, an error, or max has passed with something
// read. An error before n bytes (or EOF) is returned with nothing, so the caller can still
// answer with an error status.
func prefetch(r io.Reader, n int, max time.Duration) ([]byte, error) {
	buf := make([]byte, n)
	deadline := time.Now().Add(max)
	got := 0
	for got < n {
		m, err := r.Read(buf[got:])
		got += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if got > 0 && time.Now().After(deadline) {
			break
		}
	}
	return buf[:got], nil
}

// progressWriter gives each write to the client its own deadline (clientStall from the start
// of that write), so a large body reaches a slow client whatever its size, while a client that
// stops reading is dropped after clientStall.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

// clientStall is how long one write to a client may block. It replaces the server's
// WriteTimeout for the bodies of /stats/prometheus, which can be tens of megabytes.
const clientStall = 30 * time.Second

func (p *progressWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), 32<<10)]
		_ = p.rc.SetWriteDeadline(time.Now().Add(clientStall)) // unsupported only on test recorders
		n, err := p.w.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// fail answers 500 with the reference's message and, after it, what went wrong.
func (h *statsHandler) fail(w http.ResponseWriter, err error) {
	var pe *parseError
	switch {
	case errors.As(err, &pe):
		h.log.Warn("Envoy's stats cannot be processed", "error", err)
		textError(w, http.StatusInternalServerError, "error processing prometheus stats: error parsing prometheus stats: "+pe.Error())
	default:
		h.log.Warn("Failed to fetch stats from Envoy", "error", err)
		textError(w, http.StatusInternalServerError, "Failed to fetch stats from Envoy: "+err.Error())
	}
}

// parseError is a body that is not usable Prometheus text, as opposed to a failure to get it.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// fetchFiltered gets the metrics extension's stats from Envoy (GET
// /stats?format=prometheus&filter=appmesh[&usedonly]) and renders the families as the filter
// serves them (promtext.FilterExtension).
func fetchFiltered(ctx context.Context, admin *envoyadmin.Client, usedOnly bool) (*promtext.Exposition, error) {
	s, err := admin.PrometheusStats(ctx, true, usedOnly)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ft, err := promtext.FilterExtension(s)
	return ft, classify(err)
}

// classify separates failures to read Envoy's body from bodies that do not parse.
func classify(err error) error {
	var re *promtext.ReadError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return re.Err
	default:
		return &parseError{err}
	}
}

// writeMetrics sends a complete exposition, given in chunks, with its length.
func writeMetrics(w http.ResponseWriter, chunks ...[]byte) {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	h := w.Header()
	h.Set("Content-Type", promContentType)
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	out := &progressWriter{w: w, rc: http.NewResponseController(w)}
	for _, c := range chunks {
		if _, err := out.Write(c); err != nil {
			return // the client went away
		}
	}
}

// textError answers code with msg and a newline, as text (http.Error, like the reference).
func textError(w http.ResponseWriter, code int, msg string) {
	http.Error(w, msg, code)
}
