package platform

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
)

// userAgent is the User-Agent the reference agent sends to the metadata
// services; kept so that request logs look the same.
const userAgent = "appnetClient/1.0"

// maxBody caps every metadata response we read: the largest legitimate one (a
// task with many containers) is a few tens of KiB.
const maxBody = 1 << 20

// httpClient talks only to link-local or loopback metadata endpoints, so it
// never goes through an HTTP proxy (a proxy from the environment would break
// or leak these calls), keeps no idle connections (nothing lingers after
// Collect returns) and does not follow redirects (a metadata service never
// redirects; a 3xx is treated like any other non-200).
var httpClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: CallTimeout}).DialContext,
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  CallTimeout,
		MaxResponseHeaderBytes: 64 << 10,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// statusError is a response other than 200 OK.
type statusError struct {
	method, url string
	code        int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: unexpected status %d %s", e.method, e.url, e.code, http.StatusText(e.code))
}

// fetch performs one request bounded by CallTimeout (and ctx) and returns the
// body of a 200 response. Any other status is a *statusError.
func fetch(ctx context.Context, method, url string, header http.Header) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the server sees a clean close; errors don't matter.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return nil, &statusError{method: method, url: url, code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, url, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s %s: body larger than %d bytes", method, url, maxBody)
	}
	return body, nil
}
