package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// apiListener is one listener of the agent's HTTP servers and what serves it: the management
// API, or the read-only scrape listener. Its methods accept a nil receiver (not configured).
type apiListener struct {
	name    string
	handler http.Handler
	log     hclog.Logger
	bind    func() (net.Listener, error)

	mu   sync.Mutex
	ln   net.Listener // the bound listener; nil before listen, or after serving it failed
	addr net.Addr     // where it listens (kept across re-binds)
}

// given is the listener it was given bound already (Options.Listeners), or nil.
func (l *apiListener) given() net.Listener {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln
}

// use makes ln, bound, the listener it serves (nil: not configured).
func (l *apiListener) use(ln net.Listener) {
	if l == nil || ln == nil {
		return
	}
	l.mu.Lock()
	l.ln, l.addr = ln, ln.Addr()
	l.mu.Unlock()
}

func (l *apiListener) address() net.Addr {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// close closes a listener that was bound but is not served.
func (l *apiListener) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	ln := l.ln
	l.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}

// socketCheck is how often the server makes sure its Unix socket file is still its own.
const socketCheck = time.Second

// serve is the server part: it serves the bound listener (binding again after a failure)
// until ctx ends, then shuts the server down. It fails, to be restarted, when serving stops
// on its own or when the Unix socket file was removed or replaced (clients could no longer
// reach the agent; binding again brings it back).
func (l *apiListener) serve(ctx context.Context) error {
	l.mu.Lock()
	ln := l.ln
	l.mu.Unlock()
	if ln == nil {
		var err error
		if ln, err = l.bind(); err != nil {
			return err
		}
		l.mu.Lock()
		l.ln = ln
		l.mu.Unlock()
		l.log.Info("Server started again, " + ln.Addr().String())
	}
	srv := newHTTPServer(l.handler, l.log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	lost := watchSocket(wctx, ln)
	var err error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		cancel()
		<-served
		_ = ln.Close() // Shutdown closed it; this removes a Unix socket file if still ours
		return nil
	case err = <-served:
		err = fmt.Errorf("serving stopped: %w", err)
	case err = <-lost:
		_ = srv.Close()
		<-served
	}
	_ = ln.Close()
	l.mu.Lock()
	l.ln = nil
	l.mu.Unlock()
	return err
}

// watchSocket reports, for a Unix listener, when its socket file is gone or is another file.
func watchSocket(ctx context.Context, ln net.Listener) <-chan error {
	out := make(chan error, 1)
	ul, ok := ln.(*unixListener)
	if !ok || ul.file == nil {
		return out
	}
	go func() {
		t := time.NewTicker(socketCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if cur, err := os.Lstat(ul.path); err != nil || !os.SameFile(cur, ul.file) {
				out <- fmt.Errorf("the socket file %s was removed or replaced", ul.path)
				return
			}
		}
	}()
	return out
}

// listenScrape binds the read-only scrape listener (APPNET_AGENT_SCRAPE_BIND_ADDRESS and
// APPNET_AGENT_SCRAPE_PORT).
func listenScrape(host string, port uint16) (net.Listener, error) {
	return bindTCP(host, port, "APPNET_AGENT_SCRAPE_BIND_ADDRESS/APPNET_AGENT_SCRAPE_PORT")
}

type scrapeListenerKey struct{}

// onScrapeListener marks the requests h serves as coming through the scrape listener.
func onScrapeListener(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scrapeListenerKey{}, true)))
	})
}

func fromScrapeListener(r *http.Request) bool {
	v, _ := r.Context().Value(scrapeListenerKey{}).(bool)
	return v
}
