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
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/envoyadmin"
)

// The read-only proxies of Envoy's admin pages (issue 21): GET /envoy/PAGE asks Envoy's
// admin API for /PAGE and passes the answer on, so that an operator can read Envoy's state
// through the agent without Envoy's admin being exposed (it may sit on a socket, and it has
// mutating pages). Only pages that change nothing are proxied, with only the query parameters
// listed for each, checked and re-encoded; /envoy/config_dump is redacted (Options.RedactConfigDump).
const PathEnvoyPrefix = "/envoy/"

// envoyPage is one proxied page and the query parameters it passes on, each with the check of
// its value.
type envoyPage struct {
	params map[string]paramCheck
	accept func(int) bool // Envoy's statuses passed on (nil: 200 only)
	redact bool           // the answer is a config dump to redact
}

// paramCheck allows a query parameter's value; allowed says what is, for the error. Plain
// functions rather than regular expressions: compiling those would cost every start.
type paramCheck struct {
	ok      func(string) bool
	allowed string
}

var (
	formatParam = paramCheck{func(v string) bool { return v == "json" || v == "text" }, "json or text"}
	flagParam   = paramCheck{func(v string) bool { return v == "" || v == "true" || v == "1" }, "no value, true or 1"}
	// A resource name of ConfigDump: dynamic_active_clusters, static_listeners, ...
	resourceParam = paramCheck{func(v string) bool {
		return len(v) <= 64 && v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyz_") == ""
	},
		"a field name of the dump, e.g. dynamic_active_clusters"}
	// A field mask: comma-separated paths of field names (cluster.name,cluster.type).
	maskParam = paramCheck{validMask, "comma-separated field paths, e.g. cluster.name,cluster.type"}
	// An RE2 expression Envoy compiles; any printable text, bounded.
	regexParam = paramCheck{func(v string) bool {
		return v != "" && len(v) <= 256 && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f })
	}, "1 to 256 bytes without control characters"}
)

func validMask(v string) bool {
	if len(v) > 1024 {
		return false
	}
	for _, p := range strings.Split(v, ",") {
		for _, name := range strings.Split(p, ".") {
			if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				return false
			}
		}
	}
	return true
}

// envoyPages are the proxied pages, by path under /envoy/.
var envoyPages = map[string]envoyPage{
	"config_dump": {redact: true, params: map[string]paramCheck{
		"resource": resourceParam, "mask": maskParam, "name_regex": regexParam, "include_eds": flagParam,
	}},
	"clusters":    {params: map[string]paramCheck{"format": formatParam}},
	"listeners":   {params: map[string]paramCheck{"format": formatParam}},
	"server_info": {},
	"ready":       {accept: func(c int) bool { return c == http.StatusOK || c == http.StatusServiceUnavailable }},
	"runtime":     {},
}

// Budgets of the proxies. Envoy's admin API is single-threaded, and a config dump can take it
// a while: the proxies share one request budget and at most maxEnvoyProxies run at once
// (more get 429). An answer may be at most maxProxyBody bytes read from Envoy, and the waits
// for Envoy at most proxyWait in all.
const (
	maxEnvoyProxies = 2
	maxProxyBody    = 64 << 20
	proxyWait       = 20 * time.Second
	proxyTimeout    = 5 * time.Second // per wait for Envoy's next bytes
)

var proxyLimit = limit{perSecond: 5, burst: 10}

// envoyProxy serves /envoy/PAGE.
type envoyProxy struct {
	admin  *envoyadmin.Client                   // no retries of its own beyond statsAttempts
	redact func(r io.Reader, w io.Writer) error // Options.RedactConfigDump
	log    hclog.Logger
	slots  chan struct{}
}

func newEnvoyProxy(admin *envoyadmin.Client, redact func(io.Reader, io.Writer) error, log hclog.Logger) *envoyProxy {
	return &envoyProxy{admin: admin, redact: redact, log: log, slots: make(chan struct{}, maxEnvoyProxies)}
}

func (p *envoyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, PathEnvoyPrefix)
	page, ok := envoyPages[name]
	if !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("%s is not proxied; the read-only Envoy pages are %s", r.URL.Path, proxiedPages()))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		textError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is read-only: GET only", r.URL.Path))
		return
	}
	query, err := page.query(r.URL.RawQuery)
	if err != nil {
		textError(w, http.StatusBadRequest, r.URL.Path+": "+err.Error())
		return
	}
	if page.redact && p.redact == nil {
		textError(w, http.StatusServiceUnavailable, r.URL.Path+": this agent cannot redact Envoy's config dump, so it does not pass it on")
		return
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	default:
		tooMany(w)
		return
	}
	path := "/" + name
	if query != "" {
		path += "?" + query
	}
	p.serve(w, r, path, page)
}

// query checks the request's query against the page's parameters and returns it re-encoded.
func (page envoyPage) query(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("cannot parse the query: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		check, ok := page.params[k]
		switch {
		case !ok && len(page.params) == 0:
			return "", fmt.Errorf("unknown query parameter %q: this page takes none", k)
		case !ok:
			return "", fmt.Errorf("unknown query parameter %q (allowed: %s)", k, strings.Join(slices.Sorted(maps.Keys(page.params)), ", "))
		case len(q[k]) > 1:
			return "", fmt.Errorf("query parameter %q given %d times", k, len(q[k]))
		case !check.ok(q[k][0]):
			return "", fmt.Errorf("query parameter %s=%q is not allowed (allowed: %s)", k, q[k][0], check.allowed)
		}
	}
	return q.Encode(), nil
}

func proxiedPages() string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(envoyPages)) {
		out = append(out, PathEnvoyPrefix+n)
	}
	return strings.Join(out, ", ")
}

// serve asks Envoy and passes the answer on. Until the first bytes reach the client a failure
// is a clean error status; after that the reply is cut (the connection closed), so that a
// client never takes a part for the whole.
func (p *envoyProxy) serve(w http.ResponseWriter, r *http.Request, path string, page envoyPage) {
	ctx, cancel := context.WithTimeout(r.Context(), proxyWait+proxyTimeout)
	defer cancel()
	st, err := p.admin.Get(ctx, path, page.accept)
	if err != nil {
		var se *envoyadmin.StatusError
		switch {
		case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
			textError(w, se.Code, "Envoy answered "+path+" with "+fmt.Sprint(se.Code)+": "+se.Body)
		default:
			p.log.Warn("Envoy admin page could not be read", "path", path, "error", err)
			textError(w, http.StatusBadGateway, "Envoy's admin API did not answer "+path+": "+err.Error())
		}
		return
	}
	defer st.Close()
	st.LimitWait(proxyWait)
	if st.ContentLength > maxProxyBody {
		textError(w, http.StatusBadGateway, fmt.Sprintf("Envoy's answer to %s is %d bytes, more than the %d the agent passes on%s",
			path, st.ContentLength, maxProxyBody, narrowHint(page)))
		return
	}
	body := &boundedReader{r: st, left: maxProxyBody, path: path, hint: narrowHint(page)}
	out := &firstWrite{w: w, code: st.StatusCode, contentType: st.ContentType}
	if page.redact {
		out.contentType = "application/json"
		err = p.redact(body, out)
	} else {
		_, err = io.Copy(out, body)
	}
	if err == nil {
		out.begin() // an empty body
		return
	}
	p.log.Warn("Envoy admin page could not be passed on", "path", path, "error", err)
	if !out.started {
		textError(w, http.StatusBadGateway, "reading Envoy's answer to "+path+": "+err.Error())
		return
	}
	panic(http.ErrAbortHandler) // cut: the client must not take a part for the whole
}

func narrowHint(page envoyPage) string {
	if page.redact {
		return "; narrow it with ?resource= or ?mask="
	}
	return ""
}

// boundedReader fails once more than left bytes were read.
type boundedReader struct {
	r          io.Reader
	left       int64
	path, hint string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("the answer of Envoy to %s is larger than the %d bytes the agent passes on%s", b.path, maxProxyBody, b.hint)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("the answer of Envoy to %s is larger than the %d bytes the agent passes on%s", b.path, maxProxyBody, b.hint)
	}
	return n, err
}

// firstWrite sends the status line and headers with the first bytes of the body, so that an
// error before them can still be answered with an error status.
type firstWrite struct {
	w           http.ResponseWriter
	code        int
	contentType string
	started     bool
}

func (f *firstWrite) begin() {
	if f.started {
		return
	}
	f.started = true
	if f.contentType != "" {
		f.w.Header().Set("Content-Type", f.contentType)
	}
	f.w.Header().Set("Cache-Control", "no-store")
	f.w.Header().Set("X-Content-Type-Options", "nosniff")
	f.w.WriteHeader(f.code)
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.begin()
	return f.w.Write(p)
}
