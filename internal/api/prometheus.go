package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"

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
	admin *envoyadmin.Client // per-attempt timeout and attempts for stats dumps
	snaps *Snapshotter       // nil unless ENABLE_STATS_SNAPSHOT
	log   hclog.Logger
}

var statsQueryKeys = map[string]bool{"usedonly": true, "filter": true, "delta": true}

func (h *statsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		textError(w, http.StatusBadRequest, fmt.Sprintf("invalid method [%s] in request", r.Method))
		return
	}
	if r.ContentLength > 0 {
		textError(w, http.StatusBadRequest, fmt.Sprintf("unexpected content in request. Body size [%d]", r.ContentLength))
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		textError(w, http.StatusBadRequest, "unable to parse queries in URL: "+err.Error())
		return
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the reference reports a random bad key; the first one is stabler
	for _, k := range keys {
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
		if body, ok := h.snaps.Delta(); ok {
			w.Header().Set(statsSourceHeader, "delta")
			writeMetrics(w, body)
			return
		}
	}
	if !filter {
		h.passThrough(w, r, usedOnly)
		return
	}
	ft, err := fetchFiltered(r.Context(), h.admin, usedOnly)
	if err != nil {
		h.fail(w, err)
		return
	}
	chunks, _, err := ft.chunks()
	if err != nil {
		h.fail(w, &parseError{err})
		return
	}
	if delta {
		w.Header().Set(statsSourceHeader, "live")
	}
	writeMetrics(w, chunks...)
}

// passThrough streams Envoy's body unchanged and unbuffered (H5). Once the 200 is sent a
// failure can only be signalled by breaking the connection: with Envoy's Content-Length
// forwarded, or by aborting a chunked reply, a client never mistakes a cut body for a whole
// one.
func (h *statsHandler) passThrough(w http.ResponseWriter, r *http.Request, usedOnly bool) {
	s, err := h.admin.PrometheusStats(r.Context(), false, usedOnly)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer s.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", promContentType)
	if s.ContentLength >= 0 {
		hdr.Set("Content-Length", strconv.FormatInt(s.ContentLength, 10))
	}
	w.WriteHeader(http.StatusOK)
	n, err := io.Copy(w, s)
	if err == nil && s.ContentLength >= 0 && n != s.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		h.log.Warn("Streaming Envoy's stats failed; closing the connection", "after_bytes", n, "error", err)
		// net/http's documented way to end a reply without completing it.
		panic(http.ErrAbortHandler)
	}
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

// fetchFamilies gets the metrics extension's stats from Envoy (GET
// /stats?format=prometheus&filter=appmesh[&usedonly]) and calls visit with each family,
// parsed by expfmt.
func fetchFamilies(ctx context.Context, admin *envoyadmin.Client, usedOnly bool, visit func(*dto.MetricFamily) error) error {
	s, err := admin.PrometheusStats(ctx, true, usedOnly)
	if err != nil {
		return err
	}
	defer s.Close()
	return classify(extractFamilies(s, visit))
}

// fetchFiltered is fetchFamilies rendering the families for the filter (filterFamilies).
func fetchFiltered(ctx context.Context, admin *envoyadmin.Client, usedOnly bool) (*familyText, error) {
	s, err := admin.PrometheusStats(ctx, true, usedOnly)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ft, err := filterFamilies(s)
	return ft, classify(err)
}

// classify separates failures to read Envoy's body from bodies that do not parse.
func classify(err error) error {
	var re *readError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return re.err
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
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			return // the client went away
		}
	}
}

// textError answers code with msg and a newline, as text (http.Error, like the reference).
func textError(w http.ResponseWriter, code int, msg string) {
	http.Error(w, msg, code)
}
