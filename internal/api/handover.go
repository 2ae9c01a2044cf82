package api

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/env"
)

// Listeners are the management API's listener and the read-only scrape listener, bound before
// Envoy starts (Bind) and served by a Service given them (Options.Listeners); nil when not
// configured.
type Listeners struct {
	Main, Scrape net.Listener
}

// binders are the functions that bind the listeners c configures (nil: not configured).
func binders(c *env.Config) (bindMain, bindScrape func() (net.Listener, error)) {
	if c.API.AdminMode != nil {
		bindMain = func() (net.Listener, error) {
			if *c.API.AdminMode == "uds" {
				return listenUnix(string(c.API.AdminUDSPath))
			}
			return listenTCP(string(c.API.HTTPBindAddress), c.API.HTTPPort)
		}
	}
	if c.API.ScrapePort != nil {
		bindScrape = func() (net.Listener, error) {
			return listenScrape(string(c.API.ScrapeBindAddress), *c.API.ScrapePort)
		}
	}
	return bindMain, bindScrape
}

// Bind binds the listeners c configures, with one log line each (Service.Listen binds through it), so a
// port in use stops the agent before Envoy starts even when another process will serve them.
func Bind(c *env.Config, log hclog.Logger) (Listeners, error) {
	var l Listeners
	bindMain, bindScrape := binders(c)
	if bindMain != nil {
		ln, err := bindMain()
		if err != nil {
			return l, err
		}
		l.Main = ln
		log.Info("Server started, " + ln.Addr().String())
	}
	if bindScrape != nil {
		ln, err := bindScrape()
		if err != nil {
			l.Close()
			return Listeners{}, err
		}
		l.Scrape = ln
		log.Info("Read-only scrape listener started, " + ln.Addr().String())
	}
	return l, nil
}

// Close closes the listeners (a Unix socket's file is removed).
func (l Listeners) Close() {
	for _, ln := range []net.Listener{l.Main, l.Scrape} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// FDs are duplicates of the listeners' descriptors that stay open across an exec (0: none),
// for ListenersFromFiles in the program this process execs. Call it right before the exec;
// on a failed exec, close them with CloseFDs.
func (l Listeners) FDs() (main, scrape int, err error) {
	dup := func(ln net.Listener) (int, error) {
		if ln == nil {
			return 0, nil
		}
		f, ok := ln.(interface{ File() (*os.File, error) })
		if !ok {
			return 0, fmt.Errorf("the listener on %s cannot be handed over", ln.Addr())
		}
		file, err := f.File() // a duplicate, close-on-exec
		if err != nil {
			return 0, err
		}
		fd, err := unix.Dup(int(file.Fd())) // without close-on-exec
		file.Close()
		return fd, err
	}
	if main, err = dup(l.Main); err != nil {
		return 0, 0, err
	}
	if scrape, err = dup(l.Scrape); err != nil {
		CloseFDs(main, 0)
		return 0, 0, err
	}
	return main, scrape, nil
}

// CloseFDs closes what FDs returned (after a failed exec).
func CloseFDs(main, scrape int) {
	for _, fd := range []int{main, scrape} {
		if fd > 0 {
			_ = unix.Close(fd)
		}
	}
}

// ListenersFromFiles makes the Listeners of the descriptors FDs handed over (0: none), as c
// configures them; a Unix socket's file is again removed when the listener closes (if it is
// still the one bound).
func ListenersFromFiles(c *env.Config, main, scrape int) (Listeners, error) {
	var l Listeners
	from := func(fd int) (net.Listener, error) {
		f := os.NewFile(uintptr(fd), "listener")
		defer f.Close()
		return net.FileListener(f) // a duplicate, close-on-exec
	}
	if main > 0 {
		ln, err := from(main)
		if err != nil {
			return l, fmt.Errorf("the management API's listener handed over: %w", err)
		}
		if ul, ok := ln.(*net.UnixListener); ok {
			if c.API.AdminMode == nil || *c.API.AdminMode != "uds" {
				ln.Close()
				return l, errors.New("the management API's listener handed over is a Unix socket; the configuration asks for TCP")
			}
			ln = newUnixListener(ul, string(c.API.AdminUDSPath))
		}
		l.Main = ln
	}
	if scrape > 0 {
		ln, err := from(scrape)
		if err != nil {
			l.Close()
			return Listeners{}, fmt.Errorf("the scrape listener handed over: %w", err)
		}
		l.Scrape = ln
	}
	return l, nil
}
