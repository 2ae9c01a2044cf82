package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// IMDS paths, relative to the endpoint.
const (
	imdsTokenPath    = "/latest/api/token"
	imdsMetaPrefix   = "/latest/meta-data/"
	imdsIdentityPath = "/latest/dynamic/instance-identity/document"
	imdsAZ           = "placement/availability-zone"
	imdsAZID         = "placement/availability-zone-id"
	imdsRegion       = "placement/region"
)

// imdsTokenTTL is the lifetime asked for the IMDSv2 session token (the SDK's
// default). The token is used only during one Collect call.
const imdsTokenTTL = "21600"

// imdsClient reads instance metadata with one IMDSv2 session token, or with
// plain IMDSv1 requests when no token could be obtained.
type imdsClient struct {
	base  string // endpoint without trailing slash
	token string // "" → IMDSv1
}

// newIMDSClient prepares a client for endpoint ("" → DefaultIMDSEndpoint) and
// tries to get a session token. Any token failure falls back to IMDSv1: a
// non-200 means IMDSv2 is unsupported, and a timeout is the classic symptom of
// a hop limit of 1 seen from a container, where IMDSv1 may still answer. If the
// service is really unreachable the GETs report it.
func newIMDSClient(ctx context.Context, endpoint string) *imdsClient {
	if endpoint == "" {
		endpoint = DefaultIMDSEndpoint
	}
	c := &imdsClient{base: strings.TrimRight(endpoint, "/")}
	h := http.Header{}
	h.Set("X-aws-ec2-metadata-token-ttl-seconds", imdsTokenTTL)
	body, err := fetch(ctx, http.MethodPut, c.base+imdsTokenPath, h)
	if err == nil {
		if tok := strings.TrimSpace(string(body)); tok != "" && isPrintable(tok, 4096) {
			c.token = tok
		}
	}
	return c
}

// get reads one document. Only a 200 with a body counts; in particular a 404
// body must never become a value (the reference used any body).
func (c *imdsClient) get(ctx context.Context, path string) ([]byte, error) {
	var h http.Header
	if c.token != "" {
		h = http.Header{}
		h.Set("X-aws-ec2-metadata-token", c.token)
	}
	return fetch(ctx, http.MethodGet, c.base+path, h)
}

// metadata reads latest/meta-data/<key> as a single trimmed token-like value.
func (c *imdsClient) metadata(ctx context.Context, key string) (string, error) {
	body, err := c.get(ctx, imdsMetaPrefix+key)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(body))
	if !isPrintable(v, 255) || strings.ContainsAny(v, " \t") {
		return "", fmt.Errorf("instance metadata %s: unexpected value %q", key, truncate(v, 64))
	}
	return v, nil
}

// region reads placement/region, falling back to the instance identity
// document (older instances and some IMDS emulators only have the latter).
func (c *imdsClient) region(ctx context.Context) (string, error) {
	v, err := c.metadata(ctx, imdsRegion)
	if err == nil && validRegion(v) {
		return v, nil
	}
	if err == nil {
		err = fmt.Errorf("instance metadata %s: unexpected value %q", imdsRegion, truncate(v, 64))
	}
	if ctx.Err() != nil {
		return "", err
	}
	v, err2 := c.identityRegion(ctx)
	if err2 == nil {
		return v, nil
	}
	return "", fmt.Errorf("%w; %w", err, err2)
}

// identityRegion reads the "region" field of the instance identity document.
func (c *imdsClient) identityRegion(ctx context.Context) (string, error) {
	body, err := c.get(ctx, imdsIdentityPath)
	if err != nil {
		return "", err
	}
	var doc struct {
		Region any `json:"region"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("instance identity document: %w", err)
	}
	r, _ := doc.Region.(string)
	r = strings.TrimSpace(r)
	if !validRegion(r) {
		return "", errors.New("instance identity document: no valid \"region\" field")
	}
	return r, nil
}

// validRegion accepts what AWS region names look like (us-west-2,
// us-isob-east-1, …) so that an HTML page from a captive portal or proxy is
// never taken for a region.
func validRegion(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isPrintable reports whether s is non-empty, at most max bytes and printable
// ASCII (values go into HTTP headers and Envoy metadata).
func isPrintable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
