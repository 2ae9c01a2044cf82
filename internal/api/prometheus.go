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
// agent's clients cannot tell apart.
const statsSourceHeader = "X-Appnet-Stats-Source"

// statsHandler serves GET /stats/prometheus (H5).
type statsHandler struct {
	admin     *envoyadmin.Client // per-attempt timeout and attempts for stats dumps
	snaps     *Snapshotter       // nil unless ENABLE_STATS_SNAPSHOT
	log       hclog.Logger
	filtering chan struct{} // maxFiltering slots
	// agentMetrics, when set (APPNET_AGENT_METRICS_IN_STATS), renders the agent's own
	// families, appended to the unfiltered output (never to filter or delta answers).
	agentMetrics func() ([]byte, error)
	// decision is statsDecision (tests shorten it).
	decision time.Duration
}

func newStatsHandler(admin *envoyadmin.Client, snaps *Snapshotter, log hclog.Logger) *statsHandler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &statsHandler{admin: admin, snaps: snaps, log: log, filtering: make(chan struct{}, maxFiltering), decision: statsDecision}
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
			writeMetrics(w, r, chunks...)
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
	ft, err := fetchFiltered(r.Context(), h.admin, usedOnly, h.decision)
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
	writeMetrics(w, r, promtext.Texts(fams)...)
	ft, fams = nil, nil
	releaseAfter(n)
}

// maxFiltering is how many filtered scrapes may run at once (each holds about Envoy's
// filtered body); more answer 429 at once. Unfiltered scrapes stream and are not counted.
const maxFiltering = 2

// statsDecision is what a scrape gives Envoy, in all, to deliver what the agent needs before
// it answers (issue 16, item 11): the unfiltered scrape Envoy's first prefetchBytes (or its
// whole body), the filtered one Envoy's whole body. Both attempts count, and every wait for
// Envoy's bytes; the agent's own processing between them does not. An Envoy that drips its
// answer gets the client a 500 when it is spent, well before the server's write timeout.
const statsDecision = 10 * time.Second

// openStats starts Envoy's Prometheus stats within budget (headers and retries) and gives
// reading the body what is left of it (envoyadmin.Stream.LimitWait). close releases the
// stream.
func openStats(ctx context.Context, admin *envoyadmin.Client, filtered, usedOnly bool, budget time.Duration) (s *envoyadmin.Stream, close func(), err error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	late := time.AfterFunc(budget, cancel)
	s, err = admin.PrometheusStats(ctx, filtered, usedOnly)
	if !late.Stop() && err == nil {
		s.Close()
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, envoyadmin.ErrWaitSpent)
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	s.LimitWait(budget - time.Since(start))
	return s, func() { s.Close(); cancel() }, nil
}

// passThrough streams Envoy's body unchanged (H5). The status is committed only once the
// first prefetchBytes have arrived (or the whole body, if shorter), within statsDecision; an
// Envoy that fails, stalls or drips before that gets the client a 500, never an empty reply.
// After that, a failure can only be signalled by breaking the connection: with Envoy's
// Content-Length forwarded, or by aborting a chunked reply, a client never mistakes a cut body
// for a whole one.
func (h *statsHandler) passThrough(w http.ResponseWriter, r *http.Request, usedOnly bool) {
	s, closeStats, err := openStats(r.Context(), h.admin, false, usedOnly, h.decision)
	var head []byte
	if err == nil {
		defer closeStats()
		head, err = prefetch(s, prefetchBytes)
	}
	if errors.Is(err, envoyadmin.ErrWaitSpent) && r.Context().Err() == nil {
		err = fmt.Errorf("only %d bytes of the stats arrived within %s, not the %d KiB the agent waits for before it answers: %w",
			len(head), h.decision, prefetchBytes>>10, err)
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	s.LimitWait(0) // committed: from here on, the scrape's own limit applies

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
	out := newProgressWriter(w, r)
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
		if sc := scrapeOf(r.Context()); sc != nil {
			if why, stopped := sc.explain(err); stopped {
				h.log.Info("A stats scrape was cut; closing its connection", "after_bytes", n, "reason", why)
				panic(http.ErrAbortHandler)
			}
		}
		h.log.Warn("Streaming Envoy's stats failed; closing the connection", "after_bytes", n, "error", err)
		// net/http's documented way to end a reply without completing it.
		panic(http.ErrAbortHandler)
	}
}

// prefetchBytes is what passThrough reads before it commits to a 200: more than net/http
// buffers (4 KiB), so nothing has reached the client before it decides, and once it has
// decided the status line goes out with the first write.
const prefetchBytes = 32 << 10

// prefetch reads up to n bytes of r, or until EOF. On an error it returns what it read.
func prefetch(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil // the whole body is shorter
	}
	return buf[:got], err
}

// progressWriter gives each write to the client its own deadline (clientStall from the start
// of that write, but not past the end of its scrape), so a large body reaches a slow client
// whatever its size, while a client that stops reading is dropped after clientStall. A
// scrape cut by the scrape gate fails its next write, or the one blocked.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
	sc *scrapeSlot // nil outside the scrape gate
}

func newProgressWriter(w http.ResponseWriter, r *http.Request) *progressWriter {
	return &progressWriter{w: w, rc: http.NewResponseController(w), sc: scrapeOf(r.Context())}
}

// clientStall is how long one write to a client may block. It replaces the server's
// WriteTimeout for the bodies of /stats/prometheus, which can be tens of megabytes.
const clientStall = 30 * time.Second

func (p *progressWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), 32<<10)]
		if p.sc != nil {
			if err := p.sc.beforeWrite(clientStall); err != nil {
				return written, err
			}
		} else {
			_ = p.rc.SetWriteDeadline(time.Now().Add(clientStall)) // unsupported only on test recorders
		}
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
// /stats?format=prometheus&filter=appmesh[&usedonly]), giving Envoy budget in all to deliver
// them (see statsDecision), and renders the families as the filter serves them
// (promtext.FilterExtension).
func fetchFiltered(ctx context.Context, admin *envoyadmin.Client, usedOnly bool, budget time.Duration) (*promtext.Exposition, error) {
	s, closeStats, err := openStats(ctx, admin, true, usedOnly, budget)
	var ft *promtext.Exposition // on an error, what was read (its size tells what it cost)
	if err == nil {
		defer closeStats()
		ft, err = promtext.FilterExtension(s)
		err = classify(err)
	}
	if errors.Is(err, envoyadmin.ErrWaitSpent) {
		err = fmt.Errorf("the filtered stats were not complete within %s: %w", budget, err)
	}
	return ft, err
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

// writeMetrics sends a complete exposition, given in chunks, with its length, in answer to r.
func writeMetrics(w http.ResponseWriter, r *http.Request, chunks ...[]byte) {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	h := w.Header()
	h.Set("Content-Type", promContentType)
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	out := newProgressWriter(w, r)
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
