package testenv

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// UnixClient is an HTTP client that dials the Unix socket at path, whatever the URL's host.
func UnixClient(path string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
}

// JSONKeys lists a JSON object's keys in order (the /status field order is part of the contract).
func JSONKeys(tb testing.TB, body []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("not an object: %s", body)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatal(err)
		}
	}
	return keys
}

// ExtensionBody is an Envoy Prometheus body with one metrics-extension family and one other,
// and ExtensionFiltered what /stats/prometheus?filter=metrics_extension makes of it.
const (
	ExtensionBody = `# TYPE envoy_appmesh_RequestCount counter
envoy_appmesh_RequestCount{Mesh="b"} 110
envoy_appmesh_RequestCount{Mesh="a"} 7
# TYPE envoy_cluster_x counter
envoy_cluster_x{} 3
`
	ExtensionFiltered = "\n# TYPE RequestCount counter\nRequestCount{Mesh=\"a\"} 7\nRequestCount{Mesh=\"b\"} 110\n"
)
