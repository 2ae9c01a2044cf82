package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// Broken admin answers for the agent's fault-injection tests (STANDIN_RESET_PATHS,
// STANDIN_HUGE_PATHS, STANDIN_DRIP_PATHS), and the hidden --hang-listen mode.

// resetConnection closes the connection without an answer, with RST (linger 0) when it can.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// serveFiller answers 200 with n bytes of text lines, streamed without Content-Length.
func serveFiller(w http.ResponseWriter, r *http.Request, n int64) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	for sent := int64(0); sent < n && r.Context().Err() == nil; sent += int64(len(line)) {
		if _, err := w.Write(line[:min(int64(len(line)), n-sent)]); err != nil {
			return
		}
	}
}

// serveDrip answers 200 and then one line every interval, until the client goes away; with
// stallAfter > 0, it sends nothing more after that long but keeps the answer open.
func serveDrip(w http.ResponseWriter, r *http.Request, every, stallAfter time.Duration) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	t := time.NewTicker(every)
	defer t.Stop()
	var stall <-chan time.Time
	if stallAfter > 0 {
		st := time.NewTimer(stallAfter)
		defer st.Stop()
		stall = st.C
	}
	for i := 0; ; i++ {
		if _, err := fmt.Fprintf(w, "envoy_drip{n=\"%d\"} 1\n", i); err != nil {
			return
		}
		if f != nil {
			f.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-stall:
			<-r.Context().Done()
			return
		case <-t.C:
		}
	}
}

// hangListen is the hidden mode --hang-listen ADDR: accept connections on ADDR and never
// answer (an instance metadata service that hangs), until killed.
func hangListen(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "envoy-standin: --hang-listen: %v\n", err)
		return 1
	}
	var held []net.Conn // kept open, never read or written
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		held = append(held, c)
	}
}
