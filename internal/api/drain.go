package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
)

// drainHandler serves POST /drain_listeners (H4): inboundonly and
// graceful, in any combination, are forwarded to Envoy; values are ignored.
type drainHandler struct {
	admin *envoyadmin.Client
	log   hclog.Logger
}

var drainQueryKeys = map[string]bool{"inboundonly": true, "graceful": true}

func (h *drainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Logged only now, after the rate limit, so a flood cannot flood the log (the reference logged first).
	h.log.Info("Received request to drain listener connections.")
	if r.Method != http.MethodPost {
		textError(w, http.StatusBadRequest, fmt.Sprintf("Invalid method [%s] in request", r.Method))
		return
	}
	if r.ContentLength != 0 { // > 0, or -1 for a chunked body, as /enableLogging
		textError(w, http.StatusBadRequest, fmt.Sprintf("Unexpected content in request. Body size [%d]", r.ContentLength))
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		textError(w, http.StatusBadRequest, "Unable to parse queries in URL: "+err.Error())
		return
	}
	if len(q) == 0 || len(q) > len(drainQueryKeys) {
		textError(w, http.StatusBadRequest, fmt.Sprintf("Unexpected number of query parameters specified in request: [%d]", len(q)))
		return
	}
	unexpected := url.Values{}
	for k, v := range q {
		if !drainQueryKeys[k] {
			unexpected[k] = v
		}
	}
	if len(unexpected) > 0 {
		textError(w, http.StatusBadRequest, fmt.Sprintf("Unexpected query parameters specified in request [%s]", goMap(unexpected)))
		return
	}
	_, graceful := q["graceful"]
	// The endpoint drains inbound listeners only, as in the reference; `graceful` is forwarded
	// together with it (H4). Egress keeps working for the application while it drains.
	inbound := true
	// Not the request's context: a drain asked for is a drain done, even if the client
	// hangs up meanwhile.
	body, err := h.admin.Drain(context.WithoutCancel(r.Context()), graceful, inbound)
	if err != nil {
		h.log.Error("Unable to drain Envoy listeners", "graceful", graceful, "inboundonly", inbound, "error", err)
		textError(w, http.StatusInternalServerError, "Unable to drain Envoy listeners")
		return
	}
	h.log.Info("Initiated Envoy listener draining", "graceful", graceful, "inboundonly", inbound)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// goMap prints query values the way the reference did (Go's %v of a map, keys sorted).
func goMap(v url.Values) string {
	keys := slices.Sorted(maps.Keys(v))
	s := "map["
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%v", k, v[k])
	}
	return s + "]"
}
