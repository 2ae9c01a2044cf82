package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// The bootstrap's static listeners, served for real: each answers every HTTP request with
// 200 and its name ("NAME\n", header X-Standin-Listener), so a test can see which
// listeners are open. /drain_listeners closes them as Envoy does: the INBOUND ones only with
// ?inboundonly, all otherwise; with ?graceful after --drain-time-s (meanwhile answers carry
// "Connection: close"), at once without. They close with the process.

// bootstrapListener is one static listener of the bootstrap with a TCP socket address.
type bootstrapListener struct {
	name    string
	address string // host:port as written (port 0: any free port)
	network string // "tcp4", or "tcp6" for an IPv6 address
	inbound bool   // traffic_direction: INBOUND
}

// extractListeners reads static_resources.listeners: name, address.socket_address{address,
// port_value} and traffic_direction. Listeners on other addresses (pipes, internal) are
// not served.
func extractListeners(root map[string]any) ([]bootstrapListener, error) {
	sr, _ := field(root, "static_resources", "staticResources")
	raw, _ := field(sr, "listeners")
	list, _ := raw.([]any)
	var out []bootstrapListener
	for i, l := range list {
		sa, ok := field(l, "address")
		if ok {
			sa, ok = field(sa, "socket_address", "socketAddress")
		}
		if !ok {
			continue
		}
		hostV, _ := field(sa, "address")
		host := scalarString(hostV)
		ip := net.ParseIP(host)
		if ip == nil {
			return nil, fmt.Errorf("static_resources.listeners[%d]: malformed IP address: %s", i, host)
		}
		portV, ok := field(sa, "port_value", "portValue")
		if !ok {
			portV = "0"
		}
		port, err := integerField(portV, 65535)
		if err != nil {
			return nil, fmt.Errorf("static_resources.listeners[%d].address.socket_address.port_value: %v", i, err)
		}
		nameV, _ := field(l, "name")
		dirV, _ := field(l, "traffic_direction", "trafficDirection")
		bl := bootstrapListener{name: scalarString(nameV), address: joinHostPort(host, port), network: "tcp4",
			inbound: strings.EqualFold(scalarString(dirV), "INBOUND")}
		if ip.To4() == nil {
			bl.network = "tcp6"
		}
		if bl.name == "" {
			bl.name = fmt.Sprintf("listener_%d", i)
		}
		out = append(out, bl)
	}
	return out, nil
}

// servedListener is a bootstrap listener being served.
type servedListener struct {
	bootstrapListener
	srv       *http.Server
	mu        sync.Mutex
	draining  bool
	closeOnce sync.Once
}

// startListeners binds and serves every bootstrap listener; a bind failure is fatal, as for
// Envoy's static listeners.
func (s *standin) startListeners() {
	for _, bl := range s.boot.listeners {
		ln, err := net.Listen(bl.network, bl.address)
		if err != nil {
			s.log.logf("config", "critical", "error adding listener '%s': cannot bind '%s': %v", bl.name, bl.address, err)
			s.exit(1, "listener_bind")
		}
		sl := &servedListener{bootstrapListener: bl}
		sl.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			sl.mu.Lock()
			draining := sl.draining
			sl.mu.Unlock()
			if draining {
				w.Header().Set("Connection", "close")
			}
			w.Header().Set("X-Standin-Listener", sl.name)
			writeText(w, http.StatusOK, sl.name+"\n")
		})}
		s.mu.Lock()
		s.listeners = append(s.listeners, sl)
		s.mu.Unlock()
		go func() { _ = sl.srv.Serve(ln) }()
		s.log.logf("config", "info", "added listener '%s' on %s", bl.name, ln.Addr())
		s.rec.write(record.Event{Event: "listener_listening", Name: bl.name, Address: ln.Addr().String()})
	}
}

// drainListeners closes the inbound listeners (all with !inboundOnly): after the drain time
// when graceful, at once otherwise.
func (s *standin) drainListeners(inboundOnly, graceful bool) {
	s.mu.Lock()
	listeners := append([]*servedListener(nil), s.listeners...)
	s.mu.Unlock()
	wait := time.Duration(0)
	if graceful {
		wait = time.Duration(s.opts.drainTimeS) * time.Second
	}
	for _, sl := range listeners {
		if inboundOnly && !sl.inbound {
			continue
		}
		sl.mu.Lock()
		sl.draining = true
		sl.mu.Unlock()
		time.AfterFunc(wait, func() {
			sl.closeOnce.Do(func() {
				_ = sl.srv.Close()
				s.log.logf("config", "info", "listener '%s' stopped", sl.name)
				s.rec.write(record.Event{Event: "listener_stopped", Name: sl.name})
			})
		})
	}
}
